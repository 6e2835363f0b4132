/**
 * Kinds are named by group, version and kind, as in controller-runtime. The empty group is the
 * core ("legacy") group served under /api/v1; every other group is served under /apis.
 */
export interface GVK {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** The `apiVersion` field value for a kind: `v1` for the core group, `group/version` otherwise. */
export function apiVersionOf(gvk: Pick<GVK, 'group' | 'version'>): string {
  return gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
}

/** Splits an `apiVersion` into group and version; `v1` has the core group ''. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * The GVK an object declares through `apiVersion` and `kind`. Objects handed to write methods
 * must carry both, because the client has nowhere else to learn where to send them.
 */
export function gvkOf(obj: { apiVersion?: string; kind?: string }): GVK {
  if (!obj.apiVersion || !obj.kind) {
    throw new TypeError('object has no apiVersion/kind; set both so the client knows where to send it');
  }
  return { ...parseApiVersion(obj.apiVersion), kind: obj.kind };
}

/** A stable, readable key for a GVK: `Pod.v1` for core, `Job.v1.batch` otherwise (kubectl's form). */
export function gvkString(gvk: GVK): string {
  return gvk.group === '' ? `${gvk.kind}.${gvk.version}` : `${gvk.kind}.${gvk.version}.${gvk.group}`;
}

/** Whether two GVKs name the same kind. */
export function gvkEquals(a: GVK, b: GVK): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind;
}

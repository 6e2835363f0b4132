/** One operation of an RFC 6902 JSON patch. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/**
 * A patch and its type. `merge` is RFC 7386 JSON merge patch (null deletes a field); `json` is
 * RFC 6902; `strategic` is Kubernetes' strategic merge patch (built-in kinds only); `apply` is
 * server-side apply: `body` is the full intent of one field manager, which the client sends
 * with `fieldManager` and `force`.
 */
export type Patch =
  | { type: 'merge'; body: object }
  | { type: 'json'; ops: JsonPatchOperation[] }
  | { type: 'strategic'; body: object }
  | { type: 'apply'; body: object; fieldManager: string; force?: boolean };

/** A JSON merge patch (RFC 7386; `null` deletes a field). */
export const mergePatch = (body: object): Patch => ({ type: 'merge', body });
/** A JSON patch (RFC 6902): a list of operations; `test` makes it conditional. */
export const jsonPatch = (ops: JsonPatchOperation[]): Patch => ({ type: 'json', ops });
/** A strategic merge patch (built-in kinds only: lists merge by their keys). */
export const strategicMergePatch = (body: object): Patch => ({ type: 'strategic', body });
/**
 * A server-side apply patch: the full intent of `fieldManager`; `force` takes conflicting fields.
 */
export const applyPatch = (body: object, opts: { fieldManager: string; force?: boolean }): Patch => ({
  type: 'apply',
  body,
  ...opts,
});

/** The Content-Type the API server expects for a patch type. */
export function patchContentType(patch: Patch): string {
  switch (patch.type) {
    case 'merge':
      return 'application/merge-patch+json';
    case 'json':
      return 'application/json-patch+json';
    case 'strategic':
      return 'application/strategic-merge-patch+json';
    case 'apply':
      return 'application/apply-patch+yaml';
  }
}

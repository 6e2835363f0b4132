/**
 * Label and field selectors: formatting them for the API and evaluating them locally (the cache
 * reader and the fake client filter in memory with the same rules the server applies).
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** The structured form used in specs (`matchLabels` AND `matchExpressions`). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A selector string (`app=web,tier in (a,b)`), a map of required labels, or a `LabelSelector`. */
export type LabelSelectorInput = string | Record<string, string> | LabelSelector;

/** A field selector string (`metadata.name=x,status.phase!=Done`) or a map of required equalities. */
export type FieldSelectorInput = string | Record<string, string>;

function isStructured(sel: object): sel is LabelSelector {
  const keys = Object.keys(sel);
  return keys.length > 0 && keys.every((k) => k === 'matchLabels' || k === 'matchExpressions');
}

/** The selector in the API's string syntax; '' selects everything. */
export function formatLabelSelector(sel: LabelSelectorInput | undefined): string {
  if (sel === undefined) return '';
  if (typeof sel === 'string') return sel;
  if (!isStructured(sel)) return formatEqualities(sel as Record<string, string>);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.join(',');
}

/** A field selector as the API takes it (`a=b,c!=d`); a string is passed through. */
export function formatFieldSelector(sel: FieldSelectorInput | undefined): string {
  if (sel === undefined) return '';
  return typeof sel === 'string' ? sel : formatEqualities(sel);
}

function formatEqualities(m: Record<string, string>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; value: string };

/** Splits on commas outside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

/** Parses the API's label selector syntax; throws a TypeError on malformed input. */
function parseLabelSelector(s: string): Requirement[] {
  return splitTopLevel(s).map((part): Requirement => {
    let m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      return { key: m[1]!, op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s,()]*)$/.exec(part);
    if (m) return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
    m = /^!\s*([^\s!=(),]+)$/.exec(part);
    if (m) return { key: m[1]!, op: '!exists' };
    m = /^([^\s!=(),]+)$/.exec(part);
    if (m) return { key: m[1]!, op: 'exists' };
    throw new TypeError(`invalid label selector requirement: ${JSON.stringify(part)}`);
  });
}

function matches(reqs: Requirement[], get: (key: string) => string | undefined): boolean {
  for (const r of reqs) {
    const v = get(r.key);
    switch (r.op) {
      case 'exists':
        if (v === undefined) return false;
        break;
      case '!exists':
        if (v !== undefined) return false;
        break;
      case '=':
        if (v !== r.value) return false;
        break;
      case '!=':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
    }
  }
  return true;
}

/** A predicate over an object's labels; an empty selector matches everything. */
export function labelMatcher(
  sel: LabelSelectorInput | undefined,
): (labels: Record<string, string> | undefined) => boolean {
  return compileLabelSelector(sel).matches;
}

/** A label selector parsed once: its predicate, and the `key=value` pairs it requires. */
export interface CompiledLabelSelector {
  /** Whether an object with these labels is selected. */
  matches: (labels: Record<string, string> | undefined) => boolean;
  /**
   * Labels every match carries with exactly this value (`key=value`, `key in (value)`), which
   * a cache with an index on `key` can look up instead of scanning.
   */
  equalities: Array<{ key: string; value: string }>;
}

/** Parses a label selector (a TypeError on malformed input). */
export function compileLabelSelector(sel: LabelSelectorInput | undefined): CompiledLabelSelector {
  const reqs = parseLabelSelector(formatLabelSelector(sel));
  const equalities: CompiledLabelSelector['equalities'] = [];
  for (const r of reqs) {
    if (r.op === '=') equalities.push({ key: r.key, value: r.value });
    else if (r.op === 'in' && r.values.length === 1) equalities.push({ key: r.key, value: r.values[0]! });
  }
  if (reqs.length === 0) return { matches: () => true, equalities };
  return { matches: (labels) => matches(reqs, (k) => labels?.[k]), equalities };
}

/**
 * A predicate over an object's fields (dotted paths, equality and inequality only, as the API
 * server supports). Missing fields compare as ''.
 */
export function fieldMatcher(sel: FieldSelectorInput | undefined): (obj: object) => boolean {
  const reqs = parseLabelSelector(formatFieldSelector(sel));
  for (const r of reqs) {
    if (r.op !== '=' && r.op !== '!=')
      throw new TypeError(`field selectors support only = and !=, got ${r.key}`);
  }
  if (reqs.length === 0) return () => true;
  return (obj) => matches(reqs, (path) => fieldValue(obj, path));
}

/** The string value at a dotted path, or '' when absent (the API server's behaviour). */
export function fieldValue(obj: object, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

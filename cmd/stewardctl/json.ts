/**
 * `JSON.stringify(value, null, 2)` without recursion. The API server stores objects nested up to
 * 10,000 levels (a Session's `input`, or a pod field kept as the pod's own type), and V8's
 * JSON.stringify overflows the stack at a few thousand: `stewardctl get -o json` must still
 * print what the server holds. The output is the same as JSON.stringify's for every value it
 * accepts (toJSON, undefined and functions dropped from objects and null in arrays, non-finite
 * numbers as null).
 */
export function prettyJson(value: unknown, indent = 2): string {
  try {
    return JSON.stringify(value, null, indent);
  } catch (err) {
    if ((err as Error | undefined)?.name !== 'RangeError') throw err;
  }
  return iterativeJson(value, ' '.repeat(indent));
}

type Frame = { entries: Array<[string | undefined, unknown]>; next: number; close: string; pad: string };

/** The same, always without recursion (exported for its tests). */
export function iterativeJson(root: unknown, unit = '  '): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = (value: unknown, pad: string): void => {
    const v = toJsonValue(value);
    if (v === null || typeof v !== 'object') {
      out.push(scalar(v));
      return;
    }
    const entries: Array<[string | undefined, unknown]> = Array.isArray(v)
      ? v.map((x) => [undefined, x] as [undefined, unknown])
      : Object.keys(v)
          .map((k) => [k, toJsonValue((v as Record<string, unknown>)[k], k)] as [string, unknown])
          .filter(([, x]) => x !== undefined && typeof x !== 'function' && typeof x !== 'symbol');
    const [start, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) {
      out.push(start + close);
      return;
    }
    out.push(start);
    stack.push({ entries, next: 0, close, pad });
  };
  open(root, '');
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.entries.length) {
      out.push(`\n${top.pad}${top.close}`);
      stack.pop();
      continue;
    }
    const [key, value] = top.entries[top.next]!;
    out.push(
      `${top.next > 0 ? ',' : ''}\n${top.pad}${unit}${key === undefined ? '' : `${JSON.stringify(key)}: `}`,
    );
    top.next++;
    open(key === undefined ? arrayItem(value) : value, top.pad + unit);
  }
  return out.join('');
}

/** What JSON.stringify serializes in place of `v`: its toJSON(), if it has one. */
function toJsonValue(v: unknown, key = ''): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return (v as { toJSON: (k: string) => unknown }).toJSON(key);
  }
  return v;
}

/** In arrays, JSON.stringify writes null where it would drop an object's property. */
function arrayItem(v: unknown): unknown {
  const x = toJsonValue(v);
  return x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : x;
}

function scalar(v: unknown): string {
  if (typeof v === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
  return JSON.stringify(v) ?? 'null';
}

/**
 * Kubernetes timestamps. `metav1.Time` is RFC 3339 with whole seconds; `metav1.MicroTime`
 * (Lease acquireTime/renewTime, Event eventTime) is RFC 3339 with exactly six fractional digits,
 * and the API server rejects a MicroTime with any other number of digits. JavaScript's
 * `Date.toISOString()` gives three, so never send it for a MicroTime field.
 *
 * The client also serialises any `Date` it finds in a request body as a MicroTime string, which
 * both kinds of field accept (Time fields drop the fraction).
 */

/** `2026-01-01T12:00:00.123000Z` — a MicroTime for the given instant (ms since epoch or Date). */
export function microTime(at: number | Date = Date.now()): string {
  const iso = new Date(typeof at === 'number' ? at : at.getTime()).toISOString();
  // toISOString is always `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0–9999.
  return `${iso.slice(0, 23)}000Z`;
}

/** `2026-01-01T12:00:00Z` — a Time (seconds precision) for the given instant. */
export function rfc3339Time(at: number | Date = Date.now()): string {
  const iso = new Date(typeof at === 'number' ? at : at.getTime()).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

/** Milliseconds since epoch for a Time or MicroTime string; NaN when it does not parse. */
export function parseTime(value: string): number {
  return Date.parse(value);
}

/** `JSON.stringify` replacer that writes `Date` values as MicroTime strings. */
export function dateReplacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Date ? microTime(original) : value;
}

/** Whether a `Date` is anywhere in `value` (objects and arrays, as JSON.stringify walks them). */
function containsDate(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (value instanceof Date) return true;
  // Deeper than any Kubernetes object: let JSON.stringify's replacer handle (or reject) it.
  if (depth > 64) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (containsDate(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) if (containsDate((value as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/**
 * Serialises a request body, writing `Date`s as MicroTime strings. A replacer costs a call
 * from JSON.stringify into JavaScript for every key, so it is used only when there is a Date.
 */
export function toJSONBody(body: unknown): string {
  return containsDate(body) ? JSON.stringify(body, dateReplacer) : JSON.stringify(body);
}

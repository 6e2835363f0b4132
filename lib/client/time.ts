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

/** Serialises a request body, writing `Date`s as MicroTime strings. */
export function toJSONBody(body: unknown): string {
  return JSON.stringify(body, dateReplacer);
}

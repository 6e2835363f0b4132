/**
 * Parses a Go-style duration (`30s`, `1m30s`, `500ms`, `2h`) into milliseconds, as the flags of
 * Go controllers take them. A bare number is seconds.
 */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length)
    throw new Error(`"${text}" is not a duration (e.g. 30s, 1m30s, 500ms)`);
  return total;
}

/**
 * Kubernetes resource quantities (`500m`, `2`, `1.5Gi`, `1e3`), parsed exactly as a fraction so
 * that `4000m` equals `4` and `1Gi` exceeds `1G` without floating-point surprises.
 *
 * The grammar is apimachinery's: a signed decimal number, then a binary suffix (Ki … Ei), a
 * decimal suffix (n, u, m, k, M, G, T, P, E) or a decimal exponent (e3, E-2).
 */
export interface Quantity {
  /** value = num / den, den > 0. */
  readonly num: bigint;
  readonly den: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;
const BINARY: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Parses a quantity (a string, or a number as the CRD's int-or-string allows); undefined if it is none. */
export function parseQuantity(value: unknown): Quantity | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const m = QUANTITY.exec(text.trim());
  if (!m) return undefined;
  const [, sign, number, binary, decimal, exponent] = m;
  const [whole, fraction = ''] = number!.split('.');
  let num = BigInt(`${whole || '0'}${fraction}`) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  if (binary) num *= 2n ** BINARY[binary]!;
  const power = decimal ? DECIMAL[decimal]! : exponent ? Number(exponent) : 0;
  // Exponents beyond any real quantity would make huge BigInts; apimachinery refuses them too.
  if (Math.abs(power) > 64) return undefined;
  if (power > 0) num *= 10n ** BigInt(power);
  else if (power < 0) den *= 10n ** BigInt(-power);
  return { num, den };
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

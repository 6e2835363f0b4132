// The OpenAPI schema of a CRD as data, and a small validator for sample objects, shared by the
// manifests tests.
type Json = Record<string, unknown>;

export type Schema = Json & {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  maxItems?: number;
  maxProperties?: number;
  default?: unknown;
  format?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: Array<{ rule: string; message?: string; optionalOldSelf?: boolean }>;
};

/** A small validator for the samples: types, unknown fields, enums, bounds, required. */
export function validate(value: unknown, s: Schema, path: string, problems: string[]): void {
  if (s['x-kubernetes-preserve-unknown-fields'] && !s.properties) return;
  if (s['x-kubernetes-int-or-string']) {
    if (!Number.isInteger(value) && typeof value !== 'string') problems.push(`${path}: not int-or-string`);
    return;
  }
  const type = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  const ok = s.type === type || (s.type === 'number' && type === 'integer');
  if (!ok) return void problems.push(`${path}: ${type}, want ${s.type}`);
  if (s.enum && !s.enum.includes(value)) problems.push(`${path}: ${String(value)} not in enum`);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) problems.push(`${path}: below ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) problems.push(`${path}: above ${s.maximum}`);
  }
  if (typeof value === 'string' && s.minLength !== undefined && value.length < s.minLength) {
    problems.push(`${path}: too short`);
  }
  if (Array.isArray(value)) value.forEach((v, i) => s.items && validate(v, s.items, `${path}[${i}]`, problems));
  if (type === 'object') {
    const obj = value as Json;
    for (const r of s.required ?? []) if (!(r in obj)) problems.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = s.properties?.[k] ?? s.additionalProperties;
      if (sub) validate(v, sub, `${path}.${k}`, problems);
      else if (!s['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}.${k}: unknown field`);
    }
  }
}

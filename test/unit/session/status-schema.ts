// The API server's check of a Session's status against the CRD, for the fake client: the status
// schema is read from manifests/crd, so the unit tests refuse exactly what the API server would
// (maxLength, pattern, enum, maxItems, minimum, maximum), with a 422 as it does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { InvalidError } from '../../../lib/index.js';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
}

const CRD = fileURLToPath(new URL('../../../manifests/crd/steward.dev_sessions.yaml', import.meta.url));

/** The CRD's schema of `.status`. */
export const STATUS_SCHEMA: Schema = (() => {
  const crd = load(readFileSync(CRD, 'utf8')) as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.status!;
})();

/** The problems the API server would report for `value` under `schema`, as `path: why`. */
export function schemaProblems(value: unknown, schema: Schema = STATUS_SCHEMA, path = 'status'): string[] {
  if (value === undefined || value === null) return [];
  const out: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) out.push(`${path}: not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    // The API server counts characters (code points).
    const n = [...value].length;
    if (schema.maxLength !== undefined && n > schema.maxLength)
      out.push(`${path}: Too long: may not be more than ${schema.maxLength} bytes`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${path}: does not match`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${path}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${path}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push(`${path}: Too many items`);
    value.forEach((v, i) => schema.items && out.push(...schemaProblems(v, schema.items, `${path}[${i}]`)));
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = schema.properties?.[k];
      if (sub) out.push(...schemaProblems(v, sub, `${path}.${k}`));
    }
  }
  return out;
}

/** The 422 the API server answers a status write with when the result breaks the schema. */
export function invalidStatus(name: string, problems: string[]): InvalidError {
  const message = `Session.steward.dev "${name}" is invalid: ${problems.join(', ')}`;
  return new InvalidError({
    status: 422,
    reason: 'Invalid',
    message,
    body: { kind: 'Status', status: 'Failure', code: 422, reason: 'Invalid', message },
  });
}

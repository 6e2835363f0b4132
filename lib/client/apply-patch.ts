import { isDeepStrictEqual } from 'node:util';
import type { JsonPatchOperation } from './patch.js';

/**
 * Local application of patches, as the API server applies them. The fake client uses these;
 * they are exported because computing a patch's effect before sending it is occasionally
 * useful (e.g. to skip a no-op write).
 */

/**
 * RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.
 * Neither input is changed; the target's untouched parts are shared, the patch's values copied.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return copyValue(patch);
  const base = isPlainObject(target) ? target : undefined;
  // Built key by key rather than copied and then `delete`d from, which would leave a slow
  // dictionary-mode object behind (the Session controller applies one per status write).
  const out: Record<string, unknown> = {};
  if (base !== undefined) for (const k in base) if (!Object.hasOwn(patch, k)) out[k] = base[k];
  for (const k in patch) {
    const v = patch[k];
    if (v !== null) out[k] = applyMergePatch(base?.[k], v);
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A deep copy of a patch value. JSON data (arrays, plain objects, primitives) is copied here,
 * anything else by `structuredClone`, whose fixed cost per call was most of a Session status
 * write's local merge (its conditions and history are arrays).
 */
function copyValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(copyValue);
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = copyValue((v as Record<string, unknown>)[k]);
  return out;
}

/** Thrown when a JSON patch cannot be applied (bad path, failed test). */
export class JsonPatchError extends Error {
  readonly code = 'ERR_JSON_PATCH';
  constructor(message: string) {
    super(message);
    this.name = 'JsonPatchError';
  }
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Container; last: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') throw new JsonPatchError(`path ${path} does not exist`);
    cur = Array.isArray(cur) ? cur[Number(t)] : (cur as Record<string, unknown>)[t];
  }
  if (cur === null || typeof cur !== 'object') throw new JsonPatchError(`path ${path} does not exist`);
  return { parent: cur as Container, last: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (cur === null || typeof cur !== 'object') throw new JsonPatchError(`path ${path} does not exist`);
    cur = Array.isArray(cur) ? cur[Number(t)] : (cur as Record<string, unknown>)[t];
    if (cur === undefined) throw new JsonPatchError(`path ${path} does not exist`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean, path: string): number {
  if (forInsert && token === '-') return arr.length;
  const i = Number(token);
  if (!/^\d+$/.test(token) || i > arr.length || (!forInsert && i === arr.length)) {
    throw new JsonPatchError(`index ${token} out of range at ${path}`);
  }
  return i;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, path), 0, value);
  else parent[last] = value;
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, path), 1);
  else {
    if (!(last in parent)) throw new JsonPatchError(`path ${path} does not exist`);
    delete parent[last];
  }
  return doc;
}

/** RFC 6902 JSON patch. Returns a new document; the input is not modified. */
export function applyJsonPatch(target: unknown, ops: JsonPatchOperation[]): unknown {
  let doc = structuredClone(target);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, structuredClone(op.value));
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        doc = add(remove(doc, op.path), op.path, structuredClone(op.value));
        break;
      case 'move': {
        const v = getAt(doc, op.from);
        doc = add(remove(doc, op.from), op.path, v);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, structuredClone(getAt(doc, op.from)));
        break;
      case 'test':
        if (!isDeepStrictEqual(getAt(doc, op.path), op.value)) {
          throw new JsonPatchError(`test failed at ${op.path}`);
        }
        break;
    }
  }
  return doc;
}

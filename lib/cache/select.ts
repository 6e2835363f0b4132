import type { GVK } from '../client/gvk.js';
import { gvkString } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';
import type { CompiledLabelSelector, FieldSelectorInput } from '../client/selectors.js';
import { fieldValue, formatFieldSelector } from '../client/selectors.js';
import { UnsupportedSelectorError } from './errors.js';
import { FIELD_INDEX_PREFIX, LABEL_INDEX_PREFIX, NAMESPACE_INDEX, fieldIndexValue } from './indexers.js';
import type { ReadonlyStore } from './informer.js';

export interface Selection {
  namespace?: string;
  labels: CompiledLabelSelector;
  fieldSelector?: FieldSelectorInput;
  gvk: GVK;
}

/**
 * Evaluates a list request against a store. A field selector is supported when every term is an
 * equality on a field with an index (registered with `indexField`), or on `metadata.name` /
 * `metadata.namespace`, which need none; the first indexed term narrows the candidates by index
 * lookup, as controller-runtime does. Failing that, a label equality on a label with an index
 * (registered with `indexLabel`) does; only then the namespace index, or the whole store. The
 * candidates are always checked against every term, so an index only saves the scan.
 */
export function selectFromStore<T extends KubernetesObject>(store: ReadonlyStore<T>, sel: Selection): T[] {
  const terms = parseEqualities(formatFieldSelector(sel.fieldSelector));
  let candidates: T[] | undefined;
  const rest: Array<(obj: T) => boolean> = [];
  for (const { field, value } of terms) {
    const index = FIELD_INDEX_PREFIX + field;
    if (store.hasIndexer(index)) {
      const wanted = fieldIndexValue(sel.namespace, value);
      if (candidates === undefined) candidates = store.byIndex(index, wanted);
      else {
        const keys = new Set(store.indexKeys(index, wanted));
        rest.push((obj) => keys.has(storeKey(obj)));
      }
    } else if (field === 'metadata.name' || field === 'metadata.namespace') {
      rest.push((obj) => fieldValue(obj, field) === value);
    } else {
      throw new UnsupportedSelectorError(
        `field selector on ${field} for ${gvkString(sel.gvk)} needs an index; register it with indexField()`,
      );
    }
  }
  if (candidates === undefined) {
    for (const { key, value } of sel.labels.equalities) {
      const index = LABEL_INDEX_PREFIX + key;
      if (!store.hasIndexer(index)) continue;
      candidates = store.byIndex(index, value);
      break;
    }
  }
  candidates ??= sel.namespace ? store.byIndex(NAMESPACE_INDEX, sel.namespace) : store.list();
  const labels = sel.labels.matches;
  return candidates.filter(
    (obj) =>
      (!sel.namespace || obj.metadata?.namespace === sel.namespace) &&
      labels(obj.metadata?.labels) &&
      rest.every((f) => f(obj)),
  );
}

function storeKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : (obj.metadata?.name ?? '');
}

function parseEqualities(s: string): Array<{ field: string; value: string }> {
  if (s.trim() === '') return [];
  return s.split(',').map((term) => {
    const m = /^\s*([^=!\s]+)\s*==?\s*([^,]*?)\s*$/.exec(term);
    if (!m)
      throw new UnsupportedSelectorError(
        `the cache supports only field equalities, got ${JSON.stringify(term)}`,
      );
    return { field: m[1]!, value: m[2]! };
  });
}

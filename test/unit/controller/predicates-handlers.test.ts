import type { KubernetesObject } from '../../../lib/client/object.js';
import {
  and,
  annotationsChanged,
  enqueueForObject,
  enqueueForOwner,
  enqueueFromMap,
  generationChanged,
  labelsChanged,
  not,
  type ObjectEvent,
  or,
  priorityOf,
  resourceVersionChanged,
} from '../../../lib/controller/index.js';
import { LOW_PRIORITY } from '../../../lib/workqueue/index.js';

const obj = (meta: Record<string, unknown>): KubernetesObject => ({
  metadata: { name: 'o', namespace: 'ns', ...meta },
});
const update = (a: Record<string, unknown>, b: Record<string, unknown>): ObjectEvent => ({
  type: 'update',
  old: obj(a),
  object: obj(b),
  isResync: false,
});
const create: ObjectEvent = { type: 'create', object: obj({}), isInInitialList: false };

describe('predicates', () => {
  test('change predicates judge updates and pass creates and deletes', () => {
    expect(generationChanged(update({ generation: 1 }, { generation: 1 }))).toBe(false);
    expect(generationChanged(update({ generation: 1 }, { generation: 2 }))).toBe(true);
    expect(labelsChanged(update({ labels: { a: '1' } }, { labels: { a: '1' } }))).toBe(false);
    expect(labelsChanged(update({ labels: { a: '1' } }, { labels: { a: '2' } }))).toBe(true);
    expect(labelsChanged(update({}, { labels: { a: '1' } }))).toBe(true);
    expect(annotationsChanged(update({ annotations: { x: 'y' } }, {}))).toBe(true);
    expect(annotationsChanged(update({}, {}))).toBe(false);
    expect(resourceVersionChanged(update({ resourceVersion: '5' }, { resourceVersion: '5' }))).toBe(false);
    expect(resourceVersionChanged(update({ resourceVersion: '5' }, { resourceVersion: '6' }))).toBe(true);
    for (const p of [generationChanged, labelsChanged, annotationsChanged, resourceVersionChanged]) {
      expect(p(create)).toBe(true);
      expect(p({ type: 'delete', object: obj({}), finalStateUnknown: false })).toBe(true);
    }
  });

  test('and / or / not', () => {
    const e = update({ generation: 1, labels: { a: '1' } }, { generation: 1, labels: { a: '2' } });
    expect(and(generationChanged, labelsChanged)(e)).toBe(false);
    expect(or(generationChanged, labelsChanged)(e)).toBe(true);
    expect(not(generationChanged)(e)).toBe(true);
  });
});

describe('handlers', () => {
  test('enqueueForObject names the object', () => {
    expect(enqueueForObject()(create)).toEqual([{ namespace: 'ns', name: 'o' }]);
    expect(
      enqueueForObject()({ type: 'create', object: { metadata: { name: 'c' } }, isInInitialList: false }),
    ).toEqual([{ name: 'c' }]);
  });

  test('enqueueForOwner finds the controller owner of the right group and kind', () => {
    const job = obj({
      ownerReferences: [
        { apiVersion: 'steward.dev/v1alpha1', kind: 'Session', name: 's1', uid: '1', controller: true },
        { apiVersion: 'steward.dev/v1alpha1', kind: 'Session', name: 's2', uid: '2' },
        { apiVersion: 'other.dev/v1', kind: 'Session', name: 's3', uid: '3', controller: true },
      ],
    });
    const e: ObjectEvent = { type: 'delete', object: job, finalStateUnknown: false };
    expect(enqueueForOwner({ group: 'steward.dev', kind: 'Session' })(e)).toEqual([
      { namespace: 'ns', name: 's1' },
    ]);
    expect(enqueueForOwner({ group: 'steward.dev', kind: 'Session' }, { onlyController: false })(e)).toEqual([
      { namespace: 'ns', name: 's1' },
      { namespace: 'ns', name: 's2' },
    ]);
    expect(enqueueForOwner({ group: 'apps', kind: 'Deployment' })(e)).toEqual([]);
  });

  test('enqueueForOwner on update: the owners of the old and the new object, each once', () => {
    const ref = (name: string, controller = true) => ({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      name,
      uid: name,
      controller,
    });
    const handler = enqueueForOwner({ group: 'steward.dev', kind: 'Session' });
    // The owned object moved from s1 to s2: s1 must hear that it lost it.
    expect(handler(update({ ownerReferences: [ref('s1')] }, { ownerReferences: [ref('s2')] }))).toEqual([
      { namespace: 'ns', name: 's1' },
      { namespace: 'ns', name: 's2' },
    ]);
    // Same owner before and after: one request.
    expect(handler(update({ ownerReferences: [ref('s1')] }, { ownerReferences: [ref('s1')] }))).toEqual([
      { namespace: 'ns', name: 's1' },
    ]);
    // Owner reference removed, or added: the one owner either way.
    expect(handler(update({ ownerReferences: [ref('s1')] }, {}))).toEqual([{ namespace: 'ns', name: 's1' }]);
    expect(handler(update({}, { ownerReferences: [ref('s2')] }))).toEqual([{ namespace: 'ns', name: 's2' }]);
    // With every owner (not only the controller), deduplicated across old and new.
    const all = enqueueForOwner({ group: 'steward.dev', kind: 'Session' }, { onlyController: false });
    expect(
      all(
        update(
          { ownerReferences: [ref('s1'), ref('s2', false)] },
          { ownerReferences: [ref('s2', false), ref('s3')] },
        ),
      ),
    ).toEqual([
      { namespace: 'ns', name: 's1' },
      { namespace: 'ns', name: 's2' },
      { namespace: 'ns', name: 's3' },
    ]);
  });

  test('enqueueFromMap', () => {
    expect(enqueueFromMap(() => [{ name: 'x' }, { name: 'y' }])(create)).toEqual([
      { name: 'x' },
      { name: 'y' },
    ]);
  });

  test('initial list and resync events are low priority', () => {
    expect(priorityOf({ type: 'create', object: obj({}), isInInitialList: true })).toBe(LOW_PRIORITY);
    expect(priorityOf({ type: 'update', old: obj({}), object: obj({}), isResync: true })).toBe(LOW_PRIORITY);
    expect(priorityOf(create)).toBe(0);
    expect(priorityOf(update({}, {}))).toBe(0);
  });
});

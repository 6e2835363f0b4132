import type { KubernetesObject } from '../../../lib/client/object.js';
import {
  AlreadyOwnedError,
  isControlledBy,
  isOwnedBy,
  ownerReferenceTo,
  setControllerReference,
  setOwnerReference,
} from '../../../lib/util/owner-references.js';

const session = (name = 's', uid = 'uid-s', namespace: string | undefined = 'ns'): KubernetesObject => ({
  apiVersion: 'steward.dev/v1alpha1',
  kind: 'Session',
  metadata: { name, uid, ...(namespace ? { namespace } : {}) },
});
const job = (namespace: string | null = 'ns'): KubernetesObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'j', ...(namespace ? { namespace } : {}) },
});

describe('setControllerReference', () => {
  test('adds a controller reference that blocks owner deletion', () => {
    const j = setControllerReference(session(), job());
    expect(j.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'steward.dev/v1alpha1',
        kind: 'Session',
        name: 's',
        uid: 'uid-s',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(isControlledBy(j, session())).toBe(true);
  });

  test('is idempotent, and replaces a reference to the same owner (e.g. after a version bump)', () => {
    const j = setControllerReference(session(), job());
    setControllerReference(session(), j);
    expect(j.metadata?.ownerReferences).toHaveLength(1);
    const v2 = { ...session(), apiVersion: 'steward.dev/v1' };
    setControllerReference(v2, j, { blockOwnerDeletion: false });
    expect(j.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'steward.dev/v1', controller: true, blockOwnerDeletion: false }),
    ]);
  });

  test('keeps other owners; refuses a second controller with AlreadyOwnedError', () => {
    const j = setOwnerReference(session('other', 'uid-o'), job());
    setControllerReference(session(), j);
    expect(j.metadata?.ownerReferences?.map((r) => [r.name, r.controller ?? false])).toEqual([
      ['other', false],
      ['s', true],
    ]);
    const err = (() => {
      try {
        setControllerReference(session('third', 'uid-t'), j);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AlreadyOwnedError);
    expect(err).toMatchObject({ code: 'ERR_ALREADY_OWNED', owner: { name: 's' } });
    expect(j.metadata?.ownerReferences).toHaveLength(2);
  });

  test('refuses references the garbage collector would act on wrongly', () => {
    expect(() => setControllerReference(session(), job('other'))).toThrow(/cannot cross namespaces/);
    expect(() => setControllerReference(session(), job(null))).toThrow(/cluster-scoped/);
    // A cluster-scoped owner may own namespaced and cluster-scoped objects.
    expect(() => setControllerReference(session('c', 'uid-c', undefined), job())).not.toThrow();
  });

  test('an owner without uid, kind or apiVersion is a TypeError naming what is missing', () => {
    const noUid = { ...session(), metadata: { name: 's', namespace: 'ns' } };
    expect(() => setControllerReference(noUid, job())).toThrow(TypeError);
    expect(() => ownerReferenceTo({ metadata: { name: 'x', uid: 'u' } })).toThrow(/apiVersion, kind/);
  });
});

describe('setOwnerReference, isControlledBy, isOwnedBy', () => {
  test('a plain owner reference is not a controller and keeps an existing controller flag', () => {
    const j = setOwnerReference(session(), job());
    expect(j.metadata?.ownerReferences?.[0]).not.toHaveProperty('controller');
    expect(isOwnedBy(j, session())).toBe(true);
    expect(isControlledBy(j, session())).toBe(false);
    setControllerReference(session(), j);
    setOwnerReference(session(), j);
    expect(isControlledBy(j, session())).toBe(true);
  });

  test('isControlledBy compares uids: a recreated owner of the same name does not control', () => {
    const j = setControllerReference(session('s', 'uid-old'), job());
    expect(isControlledBy(j, session('s', 'uid-new'))).toBe(false);
    expect(isControlledBy(j, { metadata: { name: 's' } })).toBe(false);
    expect(isControlledBy(job(), session())).toBe(false);
  });
});

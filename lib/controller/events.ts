import type { KubernetesObject } from '../client/object.js';

/** An informer event as predicates and handlers see it. Objects are frozen: do not modify. */
export type ObjectEvent<T extends KubernetesObject = KubernetesObject> =
  | { type: 'create'; object: T; isInInitialList: boolean }
  | { type: 'update'; old: T; object: T; isResync: boolean }
  | { type: 'delete'; object: T; finalStateUnknown: boolean };

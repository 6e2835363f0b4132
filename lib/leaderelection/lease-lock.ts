import type { Client } from '../client/client.js';
import { isNotFound } from '../client/errors.js';
import type { GVK } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';
import { microTime, parseTime } from '../client/time.js';

/** coordination.k8s.io/v1 Lease. */
export const LEASE_GVK: GVK = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };

/** client-go's LeaderElectionRecord, stored in a Lease's spec. Times are epoch milliseconds. */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaderTransitions: number;
}

/** A Lease's spec (coordination.k8s.io/v1 LeaseSpec, the fields leader election uses). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubernetesObject {
  spec?: LeaseSpec;
}

function toRecord(spec: LeaseSpec | undefined): LeaderElectionRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: spec?.acquireTime ? parseTime(spec.acquireTime) : 0,
    renewTime: spec?.renewTime ? parseTime(spec.renewTime) : 0,
    leaderTransitions: spec?.leaseTransitions ?? 0,
  };
}

function toSpec(r: LeaderElectionRecord): LeaseSpec {
  return {
    holderIdentity: r.holderIdentity || undefined,
    leaseDurationSeconds: r.leaseDurationSeconds,
    acquireTime: microTime(r.acquireTime),
    renewTime: microTime(r.renewTime),
    leaseTransitions: r.leaderTransitions,
  };
}

/**
 * A coordination.k8s.io/v1 Lease as the lock. Writes carry the resourceVersion last read, so
 * two candidates racing for one Lease cannot both win: the loser gets a ConflictError.
 */
export class LeaseLock {
  #lease: Lease | undefined;

  constructor(
    readonly client: Client,
    readonly namespace: string,
    readonly name: string,
  ) {}

  /** The current record and its raw text (for change detection), or undefined if none exists. */
  async get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; raw: string } | undefined> {
    try {
      this.#lease = await this.client.get<Lease>(
        LEASE_GVK,
        { namespace: this.namespace, name: this.name },
        { signal },
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return { record: toRecord(this.#lease.spec), raw: JSON.stringify(this.#lease.spec ?? {}) };
  }

  /** Creates the Lease; rejects with AlreadyExistsError when another candidate was first. */
  async create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<string> {
    this.#lease = await this.client.create<Lease>(
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { namespace: this.namespace, name: this.name },
        spec: toSpec(record),
      },
      { signal },
    );
    return JSON.stringify(this.#lease.spec ?? {});
  }

  /**
   * Replaces the record of the Lease last read; rejects with ConflictError when it changed
   * since. Returns the raw text of what was written, as `get` would report it.
   */
  async update(record: LeaderElectionRecord, signal?: AbortSignal): Promise<string> {
    if (this.#lease === undefined) throw new Error('LeaseLock.update before get or create');
    this.#lease = await this.client.update<Lease>({ ...this.#lease, spec: toSpec(record) }, { signal });
    return JSON.stringify(this.#lease.spec ?? {});
  }

  /** The Lease as `namespace/name`, for logs. */
  describe(): string {
    return `${this.namespace}/${this.name}`;
  }
}

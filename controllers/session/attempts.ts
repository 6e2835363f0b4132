import {
  type Client,
  type Clock,
  isAlreadyExists,
  isBadRequest,
  isConflict,
  isControlledBy,
  isInvalid,
  isNotFound,
  isRequestEntityTooLarge,
  isStatusError,
  type KubernetesObject,
  type Reader,
  type ReconcileContext,
} from '../../lib/index.js';
import { type Job, jobFinished, sessionLabelValue } from './job.js';
import type { SessionMetrics } from './metrics.js';
import { observePods, type Pod, type PodView } from './pod.js';
import { JOB_GVK, LABEL_ATTEMPT, LABEL_SESSION, POD_GVK, type Session } from './types.js';

/** What creating an attempt's Job came to. */
export type CreateOutcome =
  /** Created, or adopted: made for this attempt by an earlier reconcile or process. */
  | { job: Job }
  /** The API server rejected the Job itself (Invalid, BadRequest): retrying cannot help. */
  | { rejected: string }
  /** The API refused it for a reason that may pass (a quota, a webhook, an overload). */
  | { refused: string }
  /** A Job of that name exists and belongs to someone else. */
  | { conflict: string };

const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);
const EVENT_GVK = { group: '', version: 'v1', kind: 'Event' };

/**
 * The Jobs and pods of a Session's attempts, as the reconciler reads and changes them: reads
 * come from the cache first, and from the API where the cache may lag behind what a decision
 * needs; the only writes create an attempt's Job and delete Jobs that must not run on. It
 * decides nothing: the reconciler does.
 */
export class AttemptJobs {
  readonly #client: Client;
  readonly #reader: Reader;
  readonly #clock: Clock;
  readonly #metrics: SessionMetrics | undefined;

  constructor(opts: { client: Client; reader: Reader; clock: Clock; metrics?: SessionMetrics }) {
    this.#client = opts.client;
    this.#reader = opts.reader;
    this.#clock = opts.clock;
    this.#metrics = opts.metrics;
  }

  /** Creates `job` for `session`; AlreadyExists adopts the Job if the Session controls it. */
  async create(session: Session, job: Job, ctx: ReconcileContext): Promise<CreateOutcome> {
    const started = this.#clock.now();
    try {
      // The server's answer need only be the new Job's metadata: the reconciler reads a Job's
      // metadata and status, never its spec (the cache drops it too), and a Job is created with
      // an empty status. Its pod template is most of a Job, so the server encodes, and this
      // process reads, half the bytes (1.5 of 3 KB).
      const created = await this.#client.create<Job>(job, { signal: ctx.signal, metadataOnlyResponse: true });
      this.#metrics?.jobCreated((this.#clock.now() - started) / 1000);
      return { job: { ...job, metadata: created.metadata, status: created.status ?? {} } };
    } catch (err) {
      // Something the CRD schema cannot check (a label value, an env name), or a Job too large
      // to store: the same spec would be refused again.
      if (isInvalid(err) || isBadRequest(err) || isRequestEntityTooLarge(err)) {
        return { rejected: (err as Error).message };
      }
      if (isStatusError(err) && !isAlreadyExists(err) && !isConflict(err)) {
        ctx.logger.info('The API refused to create the Job; retrying', { error: err.message });
        return { refused: err.message };
      }
      if (!isAlreadyExists(err)) throw err;
    }
    const key = { namespace: job.metadata!.namespace, name: job.metadata!.name! };
    const existing = await this.#client.get<Job>(JOB_GVK, key, { signal: ctx.signal });
    if (!isControlledBy(existing, session)) {
      const previous = earlierIncarnation(existing, session);
      if (previous === undefined) {
        return { conflict: `Job ${key.name} exists and is not owned by this Session` };
      }
      // A Session of this name that was deleted (the name is ours now, so it cannot exist):
      // its Job waits for the garbage collector. Delete it as the collector would, and try
      // again shortly, as for any passing refusal.
      await this.#delete(session, existing, ctx);
      return {
        refused: `Job ${key.name} still belongs to an earlier Session of this name (uid ${previous}); it is being deleted`,
      };
    }
    ctx.logger.info('Adopted the existing Job of this attempt', { job: key.name });
    return { job: existing };
  }

  /** The Session's Job `name`: from the cache, or from the API when the cache has not seen it. */
  async get(session: Session, name: string, ctx: ReconcileContext): Promise<Job | undefined> {
    const key = { namespace: session.metadata!.namespace, name };
    for (const reader of [this.#reader, this.#client]) {
      try {
        const job = await reader.get<Job>(JOB_GVK, key, { signal: ctx.signal });
        return isControlledBy(job, session) ? job : undefined;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return undefined;
  }

  /**
   * Deletes every Job of the Session that has not finished: found by its label and owner in the
   * cache (plus `also`, a Job this reconcile read), optionally only those of attempts up to
   * `upToAttempt` (the next attempt's Job, if one exists, is the one about to be adopted).
   */
  async deleteActive(
    session: Session,
    ctx: ReconcileContext,
    opts: { upToAttempt?: number; also?: Job } = {},
  ): Promise<void> {
    const listed = await this.#reader.list<Job>(JOB_GVK, {
      namespace: session.metadata!.namespace,
      labelSelector: { [LABEL_SESSION]: sessionLabelValue(session.metadata!.name!) },
      signal: ctx.signal,
    });
    const jobs = listed.items.filter((j) => isControlledBy(j, session));
    const also = opts.also;
    if (also !== undefined && !jobs.some((j) => j.metadata?.name === also.metadata?.name)) jobs.push(also);
    for (const job of jobs) {
      if (job.metadata?.deletionTimestamp || jobFinished(job) !== undefined) continue;
      const attempt = Number(job.metadata?.labels?.[LABEL_ATTEMPT]);
      if (opts.upToAttempt !== undefined && !(attempt <= opts.upToAttempt)) continue;
      await this.#delete(session, job, ctx);
    }
  }

  /**
   * What attempt `attempt`'s pod says: from the cache, or (`fresh`) from the API. Only the pods
   * of `job` count: an earlier Session of the same name may have left pods with the same labels
   * behind, still waiting for the garbage collector.
   */
  async pod(
    session: Session,
    attempt: number,
    job: Job,
    fresh: boolean,
    ctx: ReconcileContext,
  ): Promise<PodView | undefined> {
    const pods = await (fresh ? this.#client : this.#reader).list<Pod>(POD_GVK, {
      namespace: session.metadata!.namespace,
      labelSelector: {
        [LABEL_SESSION]: sessionLabelValue(session.metadata!.name!),
        [LABEL_ATTEMPT]: String(attempt),
      },
      signal: ctx.signal,
    });
    return observePods(pods.items.filter((p) => !ownedByAnotherJob(p, job)));
  }

  /**
   * The message of the Job's latest FailedCreate event, if any: the Job controller reports a
   * pod it cannot create (a quota, a LimitRange) only there. Events are not cached; this asks
   * the API, so the reconciler calls it only for a Job that has had no pod for a while.
   */
  async podCreateFailure(job: Job, ctx: ReconcileContext): Promise<string | undefined> {
    const events = await this.#client.list<KubernetesObject & EventFields>(EVENT_GVK, {
      namespace: job.metadata!.namespace,
      fieldSelector: { 'involvedObject.uid': job.metadata!.uid!, reason: 'FailedCreate' },
      signal: ctx.signal,
    });
    const latest = events.items
      .map((e) => ({ at: ms(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp), e }))
      .sort((a, b) => (b.at || 0) - (a.at || 0))[0];
    return latest?.e.message;
  }

  async #delete(session: Session, job: Job, ctx: ReconcileContext): Promise<void> {
    try {
      await this.#client.delete(
        JOB_GVK,
        { namespace: session.metadata!.namespace, name: job.metadata!.name! },
        { propagationPolicy: 'Background', preconditions: { uid: job.metadata?.uid }, signal: ctx.signal },
      );
      ctx.logger.info('Deleted the active Job of a Session that no longer needs it', {
        job: job.metadata!.name,
        phase: session.status?.phase,
      });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}

interface EventFields {
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
}

/**
 * The uid of the earlier Session of the same name that controls `job`, if that is who does: a
 * Session deleted with background propagation leaves its Jobs to the garbage collector, and a
 * Session created again under its name asks for the same Job names.
 */
function earlierIncarnation(job: Job, session: Session): string | undefined {
  const owner = job.metadata?.ownerReferences?.find((o) => o.controller === true);
  if (owner === undefined || owner.kind !== 'Session' || !owner.apiVersion.startsWith('steward.dev/')) {
    return undefined;
  }
  return owner.name === session.metadata?.name && owner.uid !== session.metadata?.uid ? owner.uid : undefined;
}

/** Whether the pod's controller is a Job other than `job` (a pod with no owner is not excluded). */
function ownedByAnotherJob(pod: Pod, job: Job): boolean {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  return owner !== undefined && owner.kind === 'Job' && owner.uid !== job.metadata?.uid;
}

import type { KubernetesObject } from '../../lib/index.js';

/** The parts of a Pod the Session operator reads. */
export interface Pod extends KubernetesObject {
  status?: {
    phase?: string;
    /** Set by the kubelet on some failures, e.g. Evicted, NodeLost. */
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{
      name: string;
      state?: {
        waiting?: { reason?: string; message?: string };
        running?: { startedAt?: string };
        terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string };
      };
    }>;
  };
}

/** What an attempt's pod says, reduced to what the Session's decisions need. */
export interface PodView {
  name: string;
  /** The pod's phase: Pending, Running, Succeeded, Failed, Unknown. */
  phase?: string;
  running: boolean;
  /** When the container started running (ms since the epoch). */
  startedAt?: number;
  /** When the pod was accepted by its node, else created (ms): image pull graces count from here. */
  since?: number;
  deleting: boolean;
  /** The container's terminated state, once it ended. */
  terminated?: { exitCode?: number; reason?: string; message?: string };
  /** The container's waiting reason (e.g. ErrImagePull) and message, while it waits. */
  waiting?: { reason: string; message?: string };
  /** The `DisruptionTarget` condition, when True: the infrastructure is ending the pod. */
  disruption?: { reason?: string; message?: string };
  /** The pod-level reason and message (the kubelet's Evicted, NodeLost, ...). */
  reason?: string;
  message?: string;
  /** The scheduler's message while the pod cannot be scheduled. */
  unschedulable?: string;
}

const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);
const CONTAINER = 'session';

/**
 * The view of an attempt's pods. Normally there is one; if the Job made more (a pod replaced
 * after a disruption), a failed one explains the attempt best, else the newest is the current.
 */
export function observePods(pods: Pod[]): PodView | undefined {
  if (pods.length === 0) return undefined;
  const byAge = [...pods].sort(
    (a, b) => ms(a.metadata?.creationTimestamp) - ms(b.metadata?.creationTimestamp),
  );
  const failed = byAge.filter((p) => p.status?.phase === 'Failed');
  return viewOf(failed[failed.length - 1] ?? byAge[byAge.length - 1]!);
}

function viewOf(pod: Pod): PodView {
  const st = pod.status ?? {};
  const cs = st.containerStatuses?.find((c) => c.name === CONTAINER) ?? st.containerStatuses?.[0];
  const term = cs?.state?.terminated;
  const run = cs?.state?.running;
  const wait = cs?.state?.waiting;
  const cond = (type: string) => st.conditions?.find((c) => c.type === type);
  const disruption = cond('DisruptionTarget');
  const scheduled = cond('PodScheduled');
  const view: PodView = {
    name: pod.metadata?.name ?? '',
    phase: st.phase,
    running: run !== undefined || st.phase === 'Running',
    deleting: pod.metadata?.deletionTimestamp !== undefined,
  };
  const startedAt = ms(run?.startedAt ?? term?.startedAt);
  if (!Number.isNaN(startedAt)) view.startedAt = startedAt;
  const since = ms(st.startTime ?? pod.metadata?.creationTimestamp);
  if (!Number.isNaN(since)) view.since = since;
  if (term) view.terminated = { exitCode: term.exitCode, reason: term.reason, message: term.message };
  if (wait?.reason) view.waiting = { reason: wait.reason, message: wait.message };
  if (disruption?.status === 'True')
    view.disruption = { reason: disruption.reason, message: disruption.message };
  if (st.reason) view.reason = st.reason;
  if (st.message) view.message = st.message;
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    view.unschedulable = scheduled.message ?? 'the pod cannot be scheduled';
  }
  return view;
}

/** Whether the pod has said how it ended (so a decision on it does not rest on missing data). */
export function podReported(view: PodView | undefined): boolean {
  if (view === undefined) return false;
  return (
    view.terminated !== undefined ||
    view.disruption !== undefined ||
    view.phase === 'Failed' ||
    view.phase === 'Succeeded'
  );
}

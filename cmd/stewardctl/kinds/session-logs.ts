// `stewardctl logs SESSION [-f] [--attempt N]`: the log of an attempt's pod; with -f, followed
// across attempts until the Session ends.
import { StringDecoder } from 'node:string_decoder';
import {
  ANNOTATION_SESSION,
  isTerminal,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  POD_GVK,
  type Session,
  SESSION_GVK,
  sessionLabelValue,
} from '../../../controllers/session/index.js';
import { isBadRequest, isStatusError, type KubernetesObject } from '../../../lib/index.js';
import type { Ctx } from '../context.js';
import { CliError, explain, serverError } from '../errors.js';
import type { LogsOptions } from '../kinds.js';
import { nextChange } from '../watch.js';

const CONTAINER = 'session';
// Re-check the Session this often while waiting for a pod, in case it ended without one.
const RECHECK_MS = 5_000;

interface Pod extends KubernetesObject {
  status?: {
    phase?: string;
    containerStatuses?: Array<{ name: string; state?: { running?: object; terminated?: object } }>;
  };
}

export async function sessionLogs(ctx: Ctx, session: Session, opts: LogsOptions): Promise<void> {
  const name = session.metadata!.name!;
  if (!opts.follow) {
    const n = opts.attempt ?? session.status?.attempt ?? 0;
    if (n < 1) throw new CliError(`session ${ctx.namespace}/${name} has not started an attempt yet`);
    const pod = (await podsOf(ctx, name, n)).pod;
    if (!pod)
      throw new CliError(
        `no pod for attempt ${n} of ${ctx.namespace}/${name} (deleted, or not scheduled yet)`,
      );
    await copyLog(ctx, pod, false);
    return;
  }
  let n = opts.attempt ?? Math.max(1, session.status?.attempt ?? 1);
  const first = n;
  let current = session;
  for (;;) {
    const pod = await waitForPod(ctx, name, n);
    if (pod) {
      if (n !== first) ctx.note(`--- attempt ${n}: pod ${pod.metadata!.name} ---\n`);
      await copyLog(ctx, pod, true);
    }
    if (opts.attempt !== undefined || ctx.signal.aborted) return;
    current = await getSession(ctx, name);
    // Wait until a later attempt starts, or the Session ends with this one.
    while (!isTerminal(current.status?.phase) && (current.status?.attempt ?? 0) <= n) {
      await nextChange(ctx, SESSION_GVK, {
        fieldSelector: { 'metadata.name': name },
        resourceVersion: current.metadata?.resourceVersion,
        timeoutMs: RECHECK_MS,
      });
      if (ctx.signal.aborted) return;
      current = await getSession(ctx, name);
    }
    if ((current.status?.attempt ?? 0) <= n) return;
    n++;
  }
}

async function getSession(ctx: Ctx, name: string): Promise<Session> {
  try {
    return await ctx.client.get<Session>(SESSION_GVK, { namespace: ctx.namespace, name });
  } catch (err) {
    explain(err, `session ${ctx.namespace}/${name}`);
  }
}

/** The pod of attempt `n` (the Job's, by labels and the full-name annotation), and the list's version. */
async function podsOf(ctx: Ctx, name: string, n: number): Promise<{ pod?: Pod; resourceVersion?: string }> {
  const list = await ctx.client.list<Pod>(POD_GVK, {
    namespace: ctx.namespace,
    labelSelector: { [LABEL_SESSION]: sessionLabelValue(name), [LABEL_ATTEMPT]: String(n) },
  });
  const pods = list.items.filter((p) => p.metadata?.annotations?.[ANNOTATION_SESSION] === name);
  // A Job replaces a pod it lost; the newest one is the attempt's.
  pods.sort(
    (a, b) =>
      Date.parse(b.metadata?.creationTimestamp ?? '') - Date.parse(a.metadata?.creationTimestamp ?? ''),
  );
  return { pod: pods[0], resourceVersion: list.metadata.resourceVersion };
}

const started = (p: Pod) =>
  p.status?.containerStatuses?.some(
    (c) => c.name === CONTAINER && (c.state?.running || c.state?.terminated),
  ) ?? false;

/** Waits until attempt `n`'s container has started; undefined when the Session ended without it. */
async function waitForPod(ctx: Ctx, name: string, n: number): Promise<Pod | undefined> {
  for (;;) {
    const { pod, resourceVersion } = await podsOf(ctx, name, n);
    if (pod && (started(pod) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'))
      return pod;
    const s = await getSession(ctx, name);
    if (isTerminal(s.status?.phase) && !pod) return undefined;
    if (isTerminal(s.status?.phase) && (s.status?.attempt ?? 0) > n) return pod;
    await nextChange(ctx, POD_GVK, {
      labelSelector: { [LABEL_SESSION]: sessionLabelValue(name), [LABEL_ATTEMPT]: String(n) },
      resourceVersion,
      timeoutMs: RECHECK_MS,
    });
    if (ctx.signal.aborted) return undefined;
  }
}

/** Copies a pod's log to stdout; with `follow`, until the container exits. */
async function copyLog(ctx: Ctx, pod: Pod, follow: boolean): Promise<void> {
  const podName = pod.metadata!.name!;
  let res;
  try {
    res = await ctx.openLog(ctx.namespace, podName, { container: CONTAINER, follow, signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) return;
    const why = isStatusError(err) ? serverError(err) : (err as Error).message;
    const waiting = isBadRequest(err) && /waiting to start|ContainerCreating|PodInitializing/.test(why);
    throw new CliError(
      `cannot read the log of pod ${podName}${waiting ? ' (its container has not started)' : ''}: ${why}`,
    );
  }
  // Reads split the log wherever the network did, inside a multi-byte character too: the
  // decoder carries a partial character over to the next read instead of writing U+FFFD.
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of res) ctx.out(decoder.write(chunk as Buffer));
    const rest = decoder.end();
    if (rest !== '') ctx.out(rest);
  } catch (err) {
    if (!ctx.signal.aborted)
      throw new CliError(`the log of pod ${podName} broke off: ${(err as Error).message}`);
  } finally {
    res.destroy();
  }
}

import { isGone, isNotFound, type KubernetesObject } from '../../lib/index.js';
import type { Ctx } from './context.js';
import { CliError, explain } from './errors.js';
import type { CliKind, Progress } from './kinds.js';

/** Ctrl-C during a wait: the shell's code for SIGINT. */
export const INTERRUPTED = 130;

export interface WaitOptions {
  /**
   * The object as the caller already has it (submit: the created object). Following starts from
   * it instead of a fresh read, so nothing between the two is missed: a Session that fails at
   * once and is deleted by a TTL of 0 before a read could find it still reports its phase.
   */
  from?: KubernetesObject;
  /** How long without a change before a "still …" line. Default 10 s. */
  progressEveryMs?: number;
}

/**
 * Streams an object's phase changes until it is terminal; resolves with its final progress.
 *
 * The phase is taken from each watch event itself, never from a read after it: an object that
 * finishes and is deleted at once (a Session with `ttlSecondsAfterFinished: 0`) is reported by
 * the phase its last MODIFIED or its DELETED event carries. Deleted before a terminal phase is a
 * failure (exit 1). Ctrl-C rejects with exit code 130.
 */
export async function waitForEnd(
  ctx: Ctx,
  kind: CliKind,
  name: string,
  { from, progressEveryMs = 10_000 }: WaitOptions = {},
): Promise<Progress> {
  const progressOf = kind.progress;
  if (progressOf === undefined)
    throw new CliError(`a ${kind.singular} never finishes: nothing to wait for`, 2);
  const what = `${kind.singular} ${ctx.namespace}/${name}`;
  const started = ctx.now();
  let last: Progress | undefined;
  let lastChange = started;
  const show = (obj: KubernetesObject): Progress => {
    const p = progressOf(obj);
    if (p.summary !== last?.summary) {
      ctx.out(`${new Date(ctx.now()).toISOString()}  ${name}  ${p.summary}\n`);
      lastChange = ctx.now();
    }
    last = p;
    return p;
  };
  // A person watching learns that nothing is wrong with the CLI when nothing changes for a while.
  const ticker = setInterval(() => {
    if (ctx.now() - lastChange < progressEveryMs) return;
    ctx.out(`  … still ${last?.phase ?? 'New'} after ${Math.round((ctx.now() - started) / 1000)}s\n`);
    lastChange = ctx.now();
  }, progressEveryMs);
  ticker.unref();
  try {
    let obj = from ?? (await read(ctx, kind, name, what));
    let failures = 0;
    for (;;) {
      if (show(obj).terminal) return last!;
      const uid = obj.metadata?.uid;
      const next = await nextEvent(ctx, kind, name, obj.metadata?.resourceVersion);
      if (ctx.signal.aborted)
        throw new CliError(`interrupted; ${what} is still ${last?.phase ?? 'New'}`, INTERRUPTED);
      if (next.type === 'event') {
        const p = progressOf(next.object);
        // A DELETED event carries the object's last state; a different uid is a new object of
        // the same name, so ours is gone with the phase last seen.
        const ours = next.object.metadata?.uid === uid;
        if (ours) show(next.object);
        if (ours && p.terminal) return p;
        if (next.deleted || !ours) throw deletedBeforeEnd(what, last);
        obj = next.object;
        continue;
      }
      // The watch ended or its version is too old (410 Gone): read again. A watch that failed
      // (server unavailable, connection reset) waits a growing while first, never a hot loop.
      failures = next.failed ? failures + 1 : 0;
      if (failures > 0) await pause(Math.min(5_000, 250 * 2 ** (failures - 1)), ctx.signal);
      try {
        obj = await ctx.client.get(kind.gvk, { namespace: ctx.namespace, name });
      } catch (err) {
        if (isNotFound(err)) throw deletedBeforeEnd(what, last);
        explain(err, what, kind.crd);
      }
      if (obj.metadata?.uid !== uid) throw deletedBeforeEnd(what, last);
    }
  } finally {
    clearInterval(ticker);
  }
}

async function read(ctx: Ctx, kind: CliKind, name: string, what: string): Promise<KubernetesObject> {
  try {
    return await ctx.client.get(kind.gvk, { namespace: ctx.namespace, name });
  } catch (err) {
    explain(err, what, kind.crd);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function deletedBeforeEnd(what: string, last: Progress | undefined): CliError {
  return new CliError(`${what} was deleted before it finished (last seen ${last?.phase ?? 'New'})`);
}

type Next =
  { type: 'event'; object: KubernetesObject; deleted: boolean } | { type: 'reread'; failed?: boolean };

/** The next change to the object after `resourceVersion`, or a cue to read it again. */
async function nextEvent(ctx: Ctx, kind: CliKind, name: string, resourceVersion?: string): Promise<Next> {
  if (ctx.signal.aborted) return { type: 'reread' };
  const ac = new AbortController();
  const stop = () => ac.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const ev of ctx.client.watch(kind.gvk, {
      namespace: ctx.namespace,
      fieldSelector: { 'metadata.name': name },
      resourceVersion,
      // The server ends a watch after this long; the loop reads again and resumes.
      timeoutSeconds: 300,
      signal: ac.signal,
    })) {
      if (ev.type === 'BOOKMARK') continue;
      return { type: 'event', object: ev.object, deleted: ev.type === 'DELETED' };
    }
    return { type: 'reread' };
  } catch (err) {
    if (isGone(err)) return { type: 'reread' };
    if (!isPermanent(err)) return { type: 'reread', failed: true };
    explain(err, undefined, kind.crd);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    ac.abort();
  }
}

// Forbidden, Unauthorized, a missing CRD: reading again cannot help.
const isPermanent = (err: unknown): boolean => {
  const code = (err as { code?: string }).code;
  return code === 'ERR_K8S_FORBIDDEN' || code === 'ERR_K8S_UNAUTHORIZED' || code === 'ERR_K8S_NO_KIND_MATCH';
};

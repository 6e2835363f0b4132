// Watches for the CLI's long-running commands: they block on the API server's watch instead
// of polling, and treat a watch that ends or fails (timeout, 410 Gone, a dropped connection) as
// "read again", never as the end.
import type { FieldSelectorInput, GVK, LabelSelectorInput } from '../../lib/index.js';
import type { Ctx } from './context.js';

/**
 * Resolves at the first change after `resourceVersion` to the objects selected, or after
 * `timeoutMs`, or when the watch ends or fails (the caller reads again either way), or on
 * Ctrl-C.
 */
export async function nextChange(
  ctx: Ctx,
  gvk: GVK,
  opts: {
    fieldSelector?: FieldSelectorInput;
    labelSelector?: LabelSelectorInput;
    resourceVersion?: string;
    timeoutMs: number;
  },
): Promise<void> {
  if (ctx.signal.aborted) return;
  const ac = new AbortController();
  const stop = () => ac.abort();
  const timer = setTimeout(stop, opts.timeoutMs);
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const ev of ctx.client.watch(gvk, {
      namespace: ctx.namespace,
      fieldSelector: opts.fieldSelector,
      labelSelector: opts.labelSelector,
      resourceVersion: opts.resourceVersion,
      signal: ac.signal,
    })) {
      if (ev.type !== 'BOOKMARK') return;
    }
  } catch {
    // A failed watch only means: read again.
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', stop);
    ac.abort();
  }
}

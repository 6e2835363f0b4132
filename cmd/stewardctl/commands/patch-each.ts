import { forEach } from '../bulk.js';
import { explain, UsageError } from '../errors.js';
import type { CliKind } from '../kinds.js';
import type { Deps } from './shared.js';

/**
 * The body of a bulk merge-patch command (cancel, suspend, resume): every argument's kind must
 * have a patch (`patchOf` returns undefined for one that does not: a usage error, before any
 * request), then each object is patched, printing `<kind>/<name> <done>` or the error.
 */
export async function patchEach(
  deps: Deps,
  args: string[],
  opts: { namespace?: string; kubeconfig?: string },
  patchOf: (kind: CliKind) => object | undefined,
  done: string,
  refused: string,
): Promise<void> {
  const refs = deps.kinds.resolveAll(args);
  for (const { kind } of refs)
    if (patchOf(kind) === undefined) throw new UsageError(`a ${kind.singular} cannot be ${refused}`);
  const ctx = deps.context(opts);
  await forEach(
    refs,
    async ({ kind, name }) => {
      try {
        await ctx.client.patch(
          kind.gvk,
          { namespace: ctx.namespace, name },
          { type: 'merge', body: patchOf(kind)! },
        );
      } catch (err) {
        explain(err, `${kind.singular} ${ctx.namespace}/${name}`, kind.crd);
      }
      return `${kind.singular}/${name} ${done}\n`;
    },
    { out: ctx.out, onError: deps.report },
  );
}

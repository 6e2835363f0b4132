import { Readable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { type Client, isStatusError, KubeClient, RestTransport } from '../../lib/index.js';
import { UsageError } from './errors.js';

/** Options every command takes. */
export interface GlobalOptions {
  kubeconfig?: string;
  namespace?: string;
}

/** A streamed pod log: the response body, or a rejection with the server's reason. */
export type LogOpener = (
  namespace: string,
  pod: string,
  opts: { container: string; follow: boolean; signal?: AbortSignal },
) => Promise<Readable>;

/** What a command runs with. Tests build one around a FakeClient. */
export interface Ctx {
  client: Client;
  namespace: string;
  out: (s: string) => void;
  /** Notes for the person watching (stderr), kept out of output meant for pipes. */
  note: (s: string) => void;
  /** Opens a pod's log (GET …/pods/NAME/log). */
  openLog: LogOpener;
  /** Aborted on Ctrl-C, so long-running commands (wait, -w, -f) end cleanly. */
  signal: AbortSignal;
  now: () => number;
}

/** Loads the kubeconfig as kubectl finds it and builds the clients. */
export function loadContext(opts: GlobalOptions, signal: AbortSignal): Ctx {
  const kubeConfig = new KubeConfig();
  try {
    if (opts.kubeconfig) kubeConfig.loadFromFile(opts.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot load kubeconfig: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!kubeConfig.getCurrentCluster())
    throw new UsageError('no cluster configured: set --kubeconfig or KUBECONFIG');
  const namespace =
    opts.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  // A CLI is one user's requests: client-side throttling would only slow bulk commands down.
  const client = new KubeClient(kubeConfig, { qps: 0, userAgent: 'stewardctl' });
  const transport = new RestTransport(kubeConfig, { qps: 0, userAgent: 'stewardctl' });
  return {
    client,
    namespace,
    out: (s) => process.stdout.write(s),
    note: (s) => process.stderr.write(s),
    openLog: async (ns, pod, o) => {
      try {
        return await transport.stream({
          method: 'GET',
          path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/log`,
          query: { container: o.container, follow: o.follow ? 'true' : undefined },
          signal: o.signal,
        });
      } catch (err) {
        // 204: the pod has no node yet, so no log: an empty one, as kubectl shows it.
        if (isStatusError(err) && err.status === 204) return Readable.from([]);
        throw err;
      }
    },
    signal,
    now: () => Date.now(),
  };
}

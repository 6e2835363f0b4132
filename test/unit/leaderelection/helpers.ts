import { microTime } from '../../../lib/client/time.js';
import type { Registry } from 'prom-client';
import {
  LEASE_GVK,
  LeaderElector,
  type LeaderElectorOptions,
  type Lease,
} from '../../../lib/leaderelection/index.js';
import type { FakeClient, FakeClock } from '../../../lib/testing/index.js';

export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Advances the fake clock in small steps, letting the electors' API calls complete between. */
export async function advance(clock: FakeClock, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.step(Math.min(stepMs, ms - t));
    await flush();
  }
}

/** A running elector on the Lease kube-system/steward, recording its callbacks in `events`. */
export function candidate(
  client: FakeClient,
  clock: FakeClock,
  identity: string,
  extra: Partial<LeaderElectorOptions> & { registry?: Registry } = {},
) {
  const events: string[] = [];
  const elector = new LeaderElector({
    client,
    clock,
    namespace: 'kube-system',
    name: 'steward',
    identity,
    ...extra,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
    onNewLeader: (id) => events.push(`leader=${id}`),
  });
  const stop = new AbortController();
  const done = elector.run(stop.signal);
  return { elector, events, stop, done };
}

export const lease = (client: FakeClient): Promise<Lease> =>
  client.get<Lease>(LEASE_GVK, { namespace: 'kube-system', name: 'steward' });

/** Writes the Lease as a leader named `holder` would, renewing it now on `clock`'s wall time. */
export async function holdLease(client: FakeClient, clock: FakeClock, holder: string): Promise<void> {
  const now = microTime(clock.now());
  const spec = { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: now, renewTime: now };
  try {
    const cur = await lease(client);
    await client.update<Lease>({ ...cur, spec: { ...cur.spec, ...spec } });
  } catch {
    await client.create<Lease>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace: 'kube-system', name: 'steward' },
      spec: { ...spec, leaseTransitions: 0 },
    });
  }
}

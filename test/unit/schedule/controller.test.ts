// Wiring into a Manager: the run kinds watched are those the API server serves, and a missing
// Schedule CRD is a clear error rather than a cache that never syncs.
import { KubeConfig } from '@kubernetes/client-node';
import { type GVK, Manager, NoKindMatchError, RequestError } from '../../../lib/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import { KindNotInstalledError, setupScheduleController } from '../../../controllers/schedule/index.js';
import { KINDS } from './harness.js';

/** A fake API server that does not serve some kinds (their CRDs are not installed). */
class PartialClient extends FakeClient {
  constructor(readonly missing: string[]) {
    super({ kinds: KINDS });
  }
  override async isNamespaced(gvk: GVK): Promise<boolean> {
    if (this.missing.includes(gvk.kind)) throw new NoKindMatchError(`no mapping for kind ${gvk.kind}`);
    return super.isNamespaced(gvk);
  }
}

const manager = (client: FakeClient) =>
  Manager.create({
    kubeConfig: new KubeConfig(),
    client,
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
  });

test('no Schedule CRD: KindNotInstalledError naming it and how to install it', async () => {
  const mgr = await manager(new PartialClient(['Schedule']));
  await expect(setupScheduleController(mgr)).rejects.toThrow(KindNotInstalledError);
  await expect(setupScheduleController(mgr)).rejects.toThrow(
    'the Schedule CRD (steward.dev/v1alpha1) is not installed: kubectl apply -k manifests/crd',
  );
});

test('no Workflow CRD: Schedules and Sessions are watched, Workflows not (their informer would never sync)', async () => {
  const mgr = await manager(new PartialClient(['Workflow']));
  await setupScheduleController(mgr);
  expect(
    mgr.cache
      .informers()
      .map((i) => i.gvk.kind)
      .sort(),
  ).toEqual(['Schedule', 'Session']);
});

test('both run kinds served: both watched, runs only through the steward.dev/schedule label', async () => {
  const mgr = await manager(new PartialClient([]));
  await setupScheduleController(mgr);
  const runs = mgr.cache.informers().filter((i) => i.gvk.kind !== 'Schedule');
  expect(runs.map((i) => i.gvk.kind).sort()).toEqual(['Session', 'Workflow']);
  for (const i of runs) expect(JSON.stringify(i.labelSelector)).toContain('steward.dev/schedule');
});

test('an API server that cannot be asked: every kind taken as served, start-up goes on', async () => {
  class Unreachable extends PartialClient {
    override async isNamespaced(): Promise<boolean> {
      throw new RequestError('GET /apis/steward.dev/v1alpha1: connect ECONNREFUSED 127.0.0.1:1');
    }
  }
  const mgr = await manager(new Unreachable([]));
  await setupScheduleController(mgr);
  expect(
    mgr.cache
      .informers()
      .map((i) => i.gvk.kind)
      .sort(),
  ).toEqual(['Schedule', 'Session', 'Workflow']);
});

import { NoKindMatchError } from '../../../lib/client/errors.js';
import type { APIResource } from '../../../lib/client/rest-mapper.js';
import { DiscoveryRESTMapper, StaticRESTMapper } from '../../../lib/client/rest-mapper.js';
import { FakeClock } from '../../../lib/util/clock.js';

describe('StaticRESTMapper', () => {
  test('knows the built-ins', async () => {
    const m = new StaticRESTMapper();
    expect(await m.mappingFor({ group: 'apps', version: 'v1', kind: 'Deployment' })).toMatchObject({
      resource: 'deployments',
      namespaced: true,
    });
    expect((await m.mappingFor({ group: '', version: 'v1', kind: 'Namespace' })).namespaced).toBe(false);
    await expect(m.mappingFor({ group: 'x.io', version: 'v1', kind: 'Y' })).rejects.toThrow(NoKindMatchError);
  });
});

describe('DiscoveryRESTMapper', () => {
  const widget = { group: 'steward.dev', version: 'v1alpha1', kind: 'Widget' };
  const gadget = { group: 'steward.dev', version: 'v1alpha1', kind: 'Gadget' };

  test('discovers a group version once, skips subresources, shares concurrent lookups', async () => {
    const calls: string[] = [];
    const resources: APIResource[] = [
      { name: 'widgets', namespaced: true, kind: 'Widget' },
      { name: 'widgets/status', namespaced: true, kind: 'Widget' },
    ];
    const m = new DiscoveryRESTMapper(async (gv) => {
      calls.push(gv);
      return { resources };
    });
    const [a, b] = await Promise.all([m.mappingFor(widget), m.mappingFor(widget)]);
    expect(a).toEqual({ gvk: widget, resource: 'widgets', namespaced: true });
    expect(b).toEqual(a);
    await m.mappingFor(widget);
    await m.mappingFor({ group: '', version: 'v1', kind: 'Pod' });
    expect(calls).toEqual(['steward.dev/v1alpha1']);
  });

  test('a missing kind is re-discovered at most once per interval (CRDs installed later)', async () => {
    const clock = new FakeClock(0);
    let resources: APIResource[] = [];
    let calls = 0;
    const m = new DiscoveryRESTMapper(
      async () => {
        calls++;
        return { resources };
      },
      { clock, missRefreshIntervalMs: 10_000 },
    );
    await expect(m.mappingFor(gadget)).rejects.toThrow(NoKindMatchError);
    await expect(m.mappingFor(gadget)).rejects.toThrow(NoKindMatchError);
    expect(calls).toBe(1);
    resources = [{ name: 'gadgets', namespaced: false, kind: 'Gadget' }];
    clock.step(10_000);
    expect((await m.mappingFor(gadget)).namespaced).toBe(false);
    expect(calls).toBe(2);
  });

  test('a group version the server does not serve is NoKindMatch', async () => {
    const m = new DiscoveryRESTMapper(async () => undefined);
    await expect(m.mappingFor(widget)).rejects.toThrow(/does not serve kind Widget.v1alpha1.steward.dev/);
  });
});

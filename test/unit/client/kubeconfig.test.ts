import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfigError, loadKubeConfig, StaticKubeConfig } from '../../../lib/client/kubeconfig.js';
import { FakeClock } from '../../../lib/util/clock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');

function write(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

function config(user: Record<string, unknown>, cluster: Record<string, unknown> = {}, current = 'ctx') {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team' } }],
    'current-context': current,
  };
}

async function applied(kc: { applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }) {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

describe('loadKubeConfig', () => {
  test('client certificate and CA data, without loading client-node', async () => {
    const path = write(
      'config',
      config(
        { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
        { 'certificate-authority-data': b64('CA'), 'tls-server-name': 'api' },
      ),
    );
    const kc = await loadKubeConfig({ path });
    expect(kc).toBeInstanceOf(StaticKubeConfig);
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect((kc as StaticKubeConfig).namespace).toBe('team');
    const o = await applied(kc);
    expect([String(o.ca), String(o.cert), String(o.key), o.servername]).toEqual(['CA', 'CERT', 'KEY', 'api']);
    expect(o.headers).toEqual({});
  });

  test('files are relative to the kubeconfig; tokens become a bearer header; as impersonates', async () => {
    writeFileSync(join(dir, 'ca.crt'), 'CA-FILE');
    const path = write(
      'config',
      config(
        { token: 't0k3n', as: 'jane' },
        { 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true },
      ),
    );
    const o = await applied(await loadKubeConfig({ path }));
    expect(String(o.ca)).toBe('CA-FILE');
    expect(o.rejectUnauthorized).toBe(false);
    expect(o.headers).toEqual({ Authorization: 'Bearer t0k3n', 'Impersonate-User': 'jane' });
  });

  test('a token file is read again once a minute has passed (service account tokens rotate)', async () => {
    const clock = new FakeClock(0);
    const token = join(dir, 'token');
    writeFileSync(token, 'first\n');
    const kc = await loadKubeConfig({ path: write('config', config({ tokenFile: token })), clock });
    expect((await applied(kc)).headers).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(token, 'second\n');
    clock.step(59_000);
    expect((await applied(kc)).headers).toEqual({ Authorization: 'Bearer first' });
    clock.step(1_000);
    expect((await applied(kc)).headers).toEqual({ Authorization: 'Bearer second' });
  });

  test('basic auth', async () => {
    const o = await applied(
      await loadKubeConfig({ path: write('config', config({ username: 'a', password: 'b' })) }),
    );
    expect(o.auth).toBe('a:b');
  });

  test('KUBECONFIG files are merged, the first to define a name winning', async () => {
    const first = write('one', {
      clusters: [{ name: 'c', cluster: { server: 'https://first' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    });
    const second = write('two', {
      ...config({ token: 'from-second' }),
      clusters: [{ name: 'c', cluster: { server: 'https://second' } }],
    });
    const kc = await loadKubeConfig({ env: { KUBECONFIG: `${first}:${join(dir, 'missing')}:${second}` } });
    expect(kc.getCurrentCluster()?.server).toBe('https://first');
    expect((await applied(kc)).headers).toEqual({ Authorization: 'Bearer from-second' });
  });

  test('~/.kube/config, then the service account in a pod', async () => {
    const home = join(dir, 'home');
    const sa = join(dir, 'sa');
    for (const d of [join(home, '.kube'), sa]) (await import('node:fs')).mkdirSync(d, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
    writeFileSync(join(sa, 'namespace'), 'steward-system');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const pod = await loadKubeConfig({ env, homeDir: home, serviceAccountDir: sa });
    expect(pod.getCurrentCluster()?.server).toBe('https://10.96.0.1:443');
    expect((pod as StaticKubeConfig).namespace).toBe('steward-system');
    const o = await applied(pod);
    expect([String(o.ca), o.headers]).toEqual(['SA-CA', { Authorization: 'Bearer sa-token' }]);

    writeFileSync(join(home, '.kube', 'config'), JSON.stringify(config({ token: 'home' })));
    const fromHome = await loadKubeConfig({ env, homeDir: home, serviceAccountDir: sa });
    expect(fromHome.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
  });

  test('exec plugins and auth providers are handed to client-node', async () => {
    const kc = await loadKubeConfig({
      path: write(
        'config',
        config({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }),
      ),
    });
    expect(kc).not.toBeInstanceOf(StaticKubeConfig);
    expect(kc.constructor.name).toBe('KubeConfig');
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
  });

  test.each([
    ['a missing file', () => loadKubeConfig({ path: join(dir, 'nope') }), /cannot read kubeconfig/],
    ['bad YAML', () => loadKubeConfig({ path: write('bad', 'a: [') }), /not valid YAML/],
    [
      'no current context',
      () => loadKubeConfig({ path: write('c', config({ token: 'x' }, {}, '')) }),
      /has no current-context/,
    ],
    [
      'an unknown context',
      () => loadKubeConfig({ path: write('c', config({ token: 'x' }, {}, 'other')) }),
      /context other not found/,
    ],
    [
      'nothing at all',
      () => loadKubeConfig({ env: {}, homeDir: dir, serviceAccountDir: dir }),
      /no kubeconfig: pass --kubeconfig/,
    ],
  ])('%s is a KubeConfigError', async (_what, load, message) => {
    const err = await load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeConfigError);
    expect((err as Error).message).toMatch(message);
  });
});

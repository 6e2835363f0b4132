// `stewardctl logs -f` follows an attempt's pod log, then each retry's, until the Session ends.
import { Readable } from 'node:stream';
import {
  ANNOTATION_SESSION,
  LABEL_ATTEMPT,
  LABEL_SESSION,
  POD_GVK,
  SESSION_GVK,
  type Session,
} from '../../../controllers/session/index.js';
import { statusErrorFrom } from '../../../lib/index.js';
import { FakeClient, waitFor } from '../../../lib/testing/index.js';
import type { Ctx } from '../../../cmd/stewardctl/context.js';
import { main } from '../../../cmd/stewardctl/main.js';

const NS = 'ns';
const key = { namespace: NS, name: 's' };

async function pod(client: FakeClient, attempt: number, state: 'running' | 'terminated') {
  const name = `s-${attempt}-x`;
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: NS,
      name,
      labels: { [LABEL_SESSION]: 's', [LABEL_ATTEMPT]: String(attempt) },
      annotations: { [ANNOTATION_SESSION]: 's' },
    },
    spec: { containers: [{ name: 'session', image: 'x' }] },
  });
  await client.patchStatus(
    POD_GVK,
    { namespace: NS, name },
    {
      type: 'merge',
      body: {
        status: {
          phase: state === 'running' ? 'Running' : 'Failed',
          containerStatuses: [
            {
              name: 'session',
              state: state === 'running' ? { running: {} } : { terminated: { exitCode: 1 } },
            },
          ],
        },
      },
    },
  );
}

const status = (client: FakeClient, s: object) =>
  client.patchStatus(SESSION_GVK, key, { type: 'merge', body: { status: s } });

test('logs -f prints attempt 1, waits for the retry, prints attempt 2, and ends with the Session', async () => {
  const client = new FakeClient({ kinds: [{ gvk: SESSION_GVK, resource: 'sessions', namespaced: true }] });
  await client.create<Session>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { ...key },
    spec: {},
  });
  await status(client, { phase: 'Running', attempt: 1 });
  await pod(client, 1, 'terminated');
  let stdout = '';
  let notes = '';
  const opened: string[] = [];
  const ctx: Ctx = {
    client,
    namespace: NS,
    out: (s) => (stdout += s),
    note: (s) => (notes += s),
    // Each pod's log: its lines, then the end of the stream (the container exited).
    openLog: async (_ns, podName, opts) => {
      opened.push(`${podName} follow=${opts.follow}`);
      return Readable.from([`${podName}: line 1\n`, `${podName}: line 2\n`]);
    },
    signal: new AbortController().signal,
    now: () => Date.now(),
  };
  const done = main(['logs', '-f', 's'], { context: () => ctx, stderr: (s) => (notes += s) });
  await waitFor(() => stdout.includes('s-1-x: line 2'), { description: 'attempt 1 log' });
  // The retry: attempt 2 starts, its pod runs, then the Session succeeds.
  await status(client, { phase: 'Pending', attempt: 2, reason: 'RetryBackoff' });
  await pod(client, 2, 'running');
  await waitFor(() => stdout.includes('s-2-x: line 2'), { description: 'attempt 2 log' });
  await status(client, { phase: 'Succeeded', attempt: 2 });
  expect(await done).toBe(0);
  expect(stdout).toBe('s-1-x: line 1\ns-1-x: line 2\ns-2-x: line 1\ns-2-x: line 2\n');
  expect(opened).toEqual(['s-1-x follow=true', 's-2-x follow=true']);
  expect(notes).toBe('--- attempt 2: pod s-2-x ---\n');
});

test('logs without -f prints one attempt; --attempt picks it; a bad server answer keeps its reason', async () => {
  const client = new FakeClient({ kinds: [{ gvk: SESSION_GVK, resource: 'sessions', namespaced: true }] });
  await client.create<Session>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { ...key },
    spec: {},
  });
  await status(client, { phase: 'Failed', attempt: 2 });
  await pod(client, 1, 'terminated');
  await pod(client, 2, 'terminated');
  let stdout = '';
  let stderr = '';
  const make = (openLog: Ctx['openLog']) => (): Ctx => ({
    client,
    namespace: NS,
    out: (s) => (stdout += s),
    note: () => {},
    openLog,
    signal: new AbortController().signal,
    now: () => Date.now(),
  });
  const ok = make(async (_ns, podName) => Readable.from([`${podName}\n`]));
  expect(await main(['logs', 's'], { context: ok })).toBe(0);
  expect(await main(['logs', 's', '--attempt', '1'], { context: ok })).toBe(0);
  expect(stdout).toBe('s-2-x\ns-1-x\n');
  const failing = make(() =>
    Promise.reject(
      statusErrorFrom({
        status: 500,
        body: { message: 'no preferred addresses found; known addresses: []' },
      }),
    ),
  );
  expect(await main(['logs', 's'], { context: failing, stderr: (s) => (stderr += s) })).toBe(1);
  expect(stderr).toBe(
    'stewardctl: cannot read the log of pod s-2-x: Error from server: no preferred addresses found; known addresses: []\n',
  );
});

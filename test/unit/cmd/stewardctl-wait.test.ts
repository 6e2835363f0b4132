// `stewardctl wait` / `submit --wait` decide from the watch events themselves (issue 11 item 8):
// a Session that succeeds and is deleted at once by its TTL still exits 0.
import { SESSION_GVK, type Session } from '../../../controllers/session/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import type { Ctx } from '../../../cmd/stewardctl/context.js';
import { sessionKind } from '../../../cmd/stewardctl/kinds/session.js';
import { waitForEnd } from '../../../cmd/stewardctl/wait.js';

const NS = 'ns';
const key = { namespace: NS, name: 's' };
const KINDS = [{ gvk: SESSION_GVK, resource: 'sessions', namespaced: true }];

function setup() {
  const client = new FakeClient({ kinds: KINDS });
  let out = '';
  const ac = new AbortController();
  const ctx: Ctx = {
    client,
    namespace: NS,
    out: (s) => (out += s),
    note: () => {},
    openLog: () => Promise.reject(new Error('no logs in this test')),
    signal: ac.signal,
    now: () => Date.now(),
  };
  return { client, ctx, output: () => out, abort: () => ac.abort() };
}

async function createRunning(client: FakeClient): Promise<Session> {
  await client.create<Session>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { ...key },
    spec: { ttlSecondsAfterFinished: 0 },
  });
  return client.patchStatus<Session>(SESSION_GVK, key, {
    type: 'merge',
    body: { status: { phase: 'Running', attempt: 1, reason: 'PodRunning' } },
  });
}

/** Lets the waiter reach its watch (every pending microtask and I/O callback runs first). */
const settle = () => new Promise((r) => setImmediate(r));

test('a Session that succeeds and is deleted by a TTL of 0 at once is Succeeded (exit 0)', async () => {
  const { client, ctx, output } = setup();
  await createRunning(client);
  const waiting = waitForEnd(ctx, sessionKind, 's');
  await settle();
  // The operator's two writes, back to back, as with ttlSecondsAfterFinished: 0: the waiter
  // sees both events before it could read the Session again.
  void client.patchStatus(SESSION_GVK, key, {
    type: 'merge',
    body: { status: { phase: 'Succeeded', reason: 'Completed', exitCode: 0 } },
  });
  void client.delete(SESSION_GVK, key);
  await expect(waiting).resolves.toMatchObject({ phase: 'Succeeded', terminal: true, succeeded: true });
  expect(output()).toMatch(/s {2}Succeeded {2}attempt=1 {2}Completed/);
});

test('a DELETED event carrying a terminal phase is that phase: Failed stays a failure', async () => {
  const { client, ctx } = setup();
  await createRunning(client);
  const waiting = waitForEnd(ctx, sessionKind, 's');
  await settle();
  void client.patchStatus(SESSION_GVK, key, {
    type: 'merge',
    body: { status: { phase: 'Failed', reason: 'ExitCode', exitCode: 3 } },
  });
  void client.delete(SESSION_GVK, key);
  await expect(waiting).resolves.toMatchObject({ phase: 'Failed', terminal: true, succeeded: false });
});

test('deleted before it finished: exit 1 naming the last phase seen', async () => {
  const { client, ctx } = setup();
  await createRunning(client);
  const waiting = waitForEnd(ctx, sessionKind, 's');
  await settle();
  void client.delete(SESSION_GVK, key);
  await expect(waiting).rejects.toMatchObject({
    exitCode: 1,
    message: 'session ns/s was deleted before it finished (last seen Running)',
  });
});

test('a watch that ends or is compacted away (410 Gone) resumes from a fresh read', async () => {
  const { client, ctx } = setup();
  await createRunning(client);
  const waiting = waitForEnd(ctx, sessionKind, 's');
  await settle();
  client.setWatchesSilent(true);
  await client.patchStatus(SESSION_GVK, key, { type: 'merge', body: { status: { reason: 'StillRunning' } } });
  client.compact();
  client.closeWatches();
  client.setWatchesSilent(false);
  await settle();
  await client.patchStatus(SESSION_GVK, key, {
    type: 'merge',
    body: { status: { phase: 'Succeeded', reason: 'Completed' } },
  });
  await expect(waiting).resolves.toMatchObject({ phase: 'Succeeded' });
});

test('Ctrl-C (the signal) ends a wait with exit 130', async () => {
  const { client, ctx, abort } = setup();
  await createRunning(client);
  const waiting = waitForEnd(ctx, sessionKind, 's');
  await settle();
  abort();
  await expect(waiting).rejects.toMatchObject({ exitCode: 130 });
});

test('submit --wait follows from the object it created: ended and deleted before the first read, still its phase', async () => {
  const { client, ctx } = setup();
  const created = await client.create<Session>({
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { ...key },
    spec: { ttlSecondsAfterFinished: 0 },
  });
  // The operator fails it at once (a policy violation) and its TTL of 0 deletes it, all before
  // submit could read it again.
  await client.patchStatus(SESSION_GVK, key, {
    type: 'merge',
    body: { status: { phase: 'Failed', reason: 'PolicyViolation', attempt: 0 } },
  });
  await client.delete(SESSION_GVK, key);
  await expect(waitForEnd(ctx, sessionKind, 's', { from: created })).resolves.toMatchObject({
    phase: 'Failed',
    terminal: true,
    succeeded: false,
  });
});

import { patchedSession } from '../../../controllers/session/status.js';
import type { Session } from '../../../controllers/session/index.js';

describe('patchedSession', () => {
  const marker = Symbol('mark');
  const read: Session = {
    apiVersion: 'steward.dev/v1alpha1',
    kind: 'Session',
    metadata: { name: 's', namespace: 'ns', uid: 'u', resourceVersion: '10', generation: 1 },
    spec: { template: { image: 'x' } },
    status: { phase: 'Pending', reason: 'Created', message: 'm', attempt: 0, nextRetryTime: 't' },
  };
  (read as Record<symbol, unknown>)[marker] = true;

  test("the status patch merged locally, the server's metadata without managedFields, the kind kept", () => {
    const out = patchedSession(
      read,
      {
        name: 's',
        namespace: 'ns',
        uid: 'u',
        resourceVersion: '11',
        generation: 1,
        managedFields: [{ manager: 'steward', operation: 'Update' }],
      },
      { phase: 'Starting', attempt: 1, jobName: 's-1', nextRetryTime: null, observedGeneration: 1 },
    );
    expect(out).toEqual({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Session',
      metadata: { name: 's', namespace: 'ns', uid: 'u', resourceVersion: '11', generation: 1 },
      spec: { template: { image: 'x' } },
      status: {
        phase: 'Starting',
        reason: 'Created',
        message: 'm',
        attempt: 1,
        jobName: 's-1',
        observedGeneration: 1,
      },
    });
    // Marks of the Session as read (in symbol keys) do not carry over to the Session as written.
    expect(Object.getOwnPropertySymbols(out)).toEqual([]);
    expect(read.status?.phase).toBe('Pending');
  });

  test('an answer without a resourceVersion is an error, not a Session the next write cannot use', () => {
    expect(() => patchedSession(read, { name: 's' }, { phase: 'Starting' })).toThrow(/resourceVersion/);
    expect(() => patchedSession(read, undefined, { phase: 'Starting' })).toThrow(/resourceVersion/);
  });
});

// Run objects: deterministic names within 63 characters, what a run carries, how its phase reads.
import { validateSpec } from '../../../controllers/session/index.js';
import {
  buildRun,
  manualRunName,
  runName,
  type Schedule,
  scheduleLabelValue,
  SESSION_RUNS,
  viewRun,
  WORKFLOW_RUNS,
} from '../../../controllers/schedule/index.js';

const T = Date.parse('2026-01-01T00:00:05Z');
const schedule = (name = 'nightly'): Schedule => ({
  apiVersion: 'steward.dev/v1alpha1',
  kind: 'Schedule',
  metadata: { name, namespace: 'ns', uid: 'u1' },
  spec: {
    schedule: '@daily',
    sessionTemplate: {
      spec: { template: { image: 'busybox', env: [{ name: 'A', value: '1' }] }, cancel: true },
    },
  },
});

describe('names', () => {
  test('<schedule>-<unix seconds>: the same for the same time, different for another', () => {
    expect(runName('nightly', T)).toBe('nightly-1767225605');
    expect(runName('nightly', T + 999)).toBe('nightly-1767225605');
    expect(runName('nightly', T + 1000)).toBe('nightly-1767225606');
  });

  test('long Schedule names are shortened with a hash, to 63 characters, still deterministic', () => {
    const long = 'a'.repeat(60);
    const n = runName(long, T);
    expect(n).toHaveLength(63);
    expect(n).toMatch(/^a+-[0-9a-f]{8}-1767225605$/);
    expect(runName(long, T)).toBe(n);
    expect(runName(`${'a'.repeat(59)}b`, T)).not.toBe(n);
    expect(manualRunName(long, 'x1y2z').length).toBeLessThanOrEqual(63);
    expect(manualRunName('nightly', 'x1y2z')).toBe('nightly-manual-x1y2z');
    expect(scheduleLabelValue(long.repeat(2)).length).toBeLessThanOrEqual(63);
    expect(scheduleLabelValue('nightly')).toBe('nightly');
  });
});

describe('buildRun', () => {
  test('a Session run passes the Session controller’s own validation, STEWARD_SCHEDULED_TIME included', () => {
    const run = buildRun(schedule(), SESSION_RUNS, T);
    expect(validateSpec(run.spec, undefined)).toBeUndefined();
    expect(run.spec).toEqual({
      template: {
        image: 'busybox',
        env: [
          { name: 'A', value: '1' },
          { name: 'STEWARD_SCHEDULED_TIME', value: '2026-01-01T00:00:05Z' },
        ],
      },
    });
    // The template itself is not changed.
    expect(schedule().spec!.sessionTemplate!.spec.template!.env).toHaveLength(1);
  });

  test('other STEWARD_ variables stay reserved for the Session controller', () => {
    expect(
      validateSpec({ template: { image: 'x', env: [{ name: 'STEWARD_INPUT', value: '' }] } }, undefined),
    ).toMatch(/STEWARD_INPUT is reserved/);
  });

  test('a manual run is annotated as such', () => {
    const run = buildRun(schedule(), SESSION_RUNS, T, { manual: true, name: 'nightly-manual-abc' });
    expect(run.metadata).toMatchObject({
      name: 'nightly-manual-abc',
      annotations: { 'steward.dev/trigger': 'manual', 'steward.dev/scheduled-time': '2026-01-01T00:00:05Z' },
    });
    expect(viewRun(SESSION_RUNS, run)).toMatchObject({ manual: true, state: 'active', scheduledTime: T });
  });
});

describe('viewRun', () => {
  test.each([
    [SESSION_RUNS, undefined, 'active'],
    [SESSION_RUNS, 'Starting', 'active'],
    [SESSION_RUNS, 'Succeeded', 'succeeded'],
    [SESSION_RUNS, 'TimedOut', 'failed'],
    [SESSION_RUNS, 'Cancelled', 'failed'],
    [WORKFLOW_RUNS, 'Running', 'active'],
    [WORKFLOW_RUNS, 'Succeeded', 'succeeded'],
    [WORKFLOW_RUNS, 'Failed', 'failed'],
    [WORKFLOW_RUNS, 'Cancelled', 'failed'],
  ])('%#: phase %s is %s', (kind, phase, state) => {
    const run = { ...buildRun(schedule(), kind, T), status: phase === undefined ? undefined : { phase } };
    expect(viewRun(kind, run).state).toBe(state);
  });
});

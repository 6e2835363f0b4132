import { MAX_MESSAGE_LENGTH } from '../../../controllers/session/index.js';
import {
  boundTaskStatus,
  MAX_OBJECT_BYTES,
  MAX_TASK_REASON_LENGTH,
  taskMessageBytes,
  truncateBytes,
} from '../../../controllers/workflow/bounds.js';
import type { TaskStatus } from '../../../controllers/workflow/index.js';

const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2;

describe('Workflow status bounds', () => {
  test('small Workflows keep whole messages; 1,000 tasks share what the spec leaves', () => {
    expect(taskMessageBytes(1, 200)).toBe(MAX_MESSAGE_LENGTH);
    expect(taskMessageBytes(100, 30_000)).toBe(MAX_MESSAGE_LENGTH);
    const each = taskMessageBytes(1000, 254_000);
    expect(each).toBeGreaterThan(250);
    expect(each).toBeLessThan(600);
    // A spec that takes (nearly) all the room leaves the messages none.
    expect(taskMessageBytes(1000, MAX_OBJECT_BYTES / 2)).toBe(0);
  });

  test('truncateBytes counts what JSON takes: multi-byte characters and escapes', () => {
    for (const text of ['é'.repeat(5000), '\u0001'.repeat(5000), '😀'.repeat(3000), 'a"b\\'.repeat(2000)]) {
      const out = truncateBytes(text, 500);
      expect(jsonBytes(out)).toBeLessThanOrEqual(500);
      expect(jsonBytes(out)).toBeGreaterThan(250);
      expect(out).toMatch(/ … \[\d+ more characters truncated\]$/);
    }
    expect(truncateBytes('short', 500)).toBe('short');
  });

  test('a bound task entry: a valid short reason (else its phase), a message within its bytes', () => {
    const t: TaskStatus = {
      phase: 'Failed',
      reason: `E${'x'.repeat(1023)}`,
      message: 'm'.repeat(10_000),
      session: 's',
    };
    const b = boundTaskStatus(t, 300);
    expect(b).toMatchObject({ phase: 'Failed', reason: 'Failed', session: 's' });
    expect(jsonBytes(b.message!)).toBeLessThanOrEqual(300);
    // Bound again: the same, so a recorded entry never looks changed.
    expect(boundTaskStatus(b, 300)).toEqual(b);
    expect(boundTaskStatus({ phase: 'Failed', reason: 'not valid!' }, 300).reason).toBe('Failed');
    const ok = { phase: 'Failed', reason: 'X'.repeat(MAX_TASK_REASON_LENGTH), message: 'fine' } as const;
    expect(boundTaskStatus(ok, 300)).toBe(ok);
    // No room at all: no message rather than a bare marker.
    expect(boundTaskStatus(t, 10).message).toBeUndefined();
  });
});

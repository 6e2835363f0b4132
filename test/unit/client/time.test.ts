import { microTime, parseTime, rfc3339Time, toJSONBody } from '../../../lib/client/time.js';

describe('timestamps', () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

  test('microTime has exactly six fractional digits', () => {
    expect(microTime(at)).toBe('2026-01-02T03:04:05.678000Z');
    expect(microTime(new Date(at))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  test('rfc3339Time has whole seconds', () => {
    expect(rfc3339Time(at)).toBe('2026-01-02T03:04:05Z');
  });

  test('parseTime reads both forms', () => {
    expect(parseTime('2026-01-02T03:04:05.678000Z')).toBe(at);
    expect(parseTime('2026-01-02T03:04:05Z')).toBe(at - 678);
  });

  test('request bodies serialise Dates as MicroTime, wherever they are', () => {
    const body = { spec: { renewTime: new Date(at), nested: [{ t: new Date(at) }] }, s: 'x' };
    expect(JSON.parse(toJSONBody(body))).toEqual({
      spec: { renewTime: '2026-01-02T03:04:05.678000Z', nested: [{ t: '2026-01-02T03:04:05.678000Z' }] },
      s: 'x',
    });
  });
});

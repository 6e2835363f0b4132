// The Session kind in stewardctl: `NAME`, `sess/NAME`, `session/NAME`, `sessions/NAME`.
import { isTerminal, type Session, SESSION_GVK } from '../../../controllers/session/index.js';
import type { CliKind } from '../kinds.js';
import { age } from '../output.js';
import { sessionLogs } from './session-logs.js';

export const sessionKind: CliKind<Session> = {
  gvk: SESSION_GVK,
  singular: 'session',
  plural: 'sessions',
  shortNames: ['sess'],
  crd: 'Session',
  columns: [
    { header: 'PHASE', value: (s) => s.status?.phase ?? '' },
    { header: 'ATTEMPT', value: (s) => String(s.status?.attempt ?? 0) },
    { header: 'REASON', value: (s) => s.status?.reason ?? '' },
    { header: 'AGE', value: (s, now) => age(s.metadata?.creationTimestamp, now) },
    { header: 'JOB', value: (s) => s.status?.jobName ?? '', wide: true },
    {
      header: 'EXIT CODE',
      value: (s) => (s.status?.exitCode === undefined ? '' : String(s.status.exitCode)),
      wide: true,
    },
    { header: 'MESSAGE', value: (s) => s.status?.message ?? '', wide: true },
  ],
  describe: (s) => {
    const st = s.status ?? {};
    return [
      ['Phase', st.phase ?? ''],
      ['Attempt', st.attempt ?? 0],
      ['Job', st.jobName ?? ''],
      ['Reason', st.reason ?? ''],
      ['Message', st.message ?? ''],
      ['Exit code', st.exitCode],
      ['Created', s.metadata?.creationTimestamp],
      ['Started', st.startTime],
      ['Running', st.runningTime],
      ['Completed', st.completionTime],
      ['Next retry', st.nextRetryTime],
    ];
  },
  // Why each of the last attempts ended (status.history).
  describeTables: (s) => [
    {
      title: 'History',
      rows: [
        ['ATTEMPT', 'CLASS', 'EXIT CODE', 'REASON', 'STARTED', 'FINISHED', 'MESSAGE'],
        ...(s.status?.history ?? []).map((h) => [
          String(h.attempt),
          h.class ?? '',
          h.exitCode === undefined ? '' : String(h.exitCode),
          h.reason,
          h.startTime ?? '',
          h.finishTime,
          (h.message ?? '').replace(/\s*\n\s*/g, ' '),
        ]),
      ],
    },
  ],
  progress: (s) => {
    const st = s.status ?? {};
    return {
      phase: st.phase,
      terminal: isTerminal(st.phase),
      succeeded: st.phase === 'Succeeded',
      summary: `${st.phase ?? 'New'}  attempt=${st.attempt ?? 0}  ${st.reason ?? ''}${st.message ? `: ${st.message}` : ''}`,
    };
  },
  cancelPatch: { spec: { cancel: true } },
  logs: sessionLogs,
};

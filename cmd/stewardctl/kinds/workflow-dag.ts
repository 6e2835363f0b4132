// The DAG of a Workflow as `stewardctl describe wf/NAME` draws it: tasks by level (a task sits
// one level below the deepest of its dependencies), each with its phase, duration and reason,
// and what it waits for.
import {
  buildGraph,
  type TaskPhase,
  type TaskStatus,
  type Workflow,
} from '../../../controllers/workflow/index.js';

const MARK: Record<TaskPhase, string> = {
  Pending: '·',
  Running: '▶',
  Succeeded: '✓',
  Failed: '✗',
  Skipped: '⊘',
  Cancelled: '■',
};

/** A duration as people read it: 850ms, 42s, 3m05s, 2h10m. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How long a task ran (or has run so far); empty before it started. */
function durationOf(t: TaskStatus | undefined, now: number): string {
  const start = Date.parse(t?.startTime ?? '');
  if (Number.isNaN(start)) return '';
  const end = t?.completionTime ? Date.parse(t.completionTime) : now;
  return humanDuration(end - start);
}

/** The drawing as a `describe` table: a title, a header row, then one row per task by level. */
export function dagTable(wf: Workflow, now: number): { title: string; rows: string[][] } {
  const tasks = wf.spec?.tasks ?? [];
  const status = wf.status?.tasks ?? {};
  const built = buildGraph(tasks.map((t) => ({ name: t.name, dependsOn: t.dependsOn })));
  // An invalid graph (a cycle) cannot be levelled: the tasks are listed as given.
  const level = 'graph' in built ? built.graph.level : tasks.map(() => 0);
  const byLevel = new Map<number, number[]>();
  for (const [i, l] of level.entries()) byLevel.set(l, [...(byLevel.get(l) ?? []), i]);
  const rows: string[][] = [['LEVEL', 'TASK', 'PHASE', 'DURATION', 'AFTER', 'REASON']];
  for (const l of [...byLevel.keys()].sort((a, b) => a - b)) {
    const members = byLevel.get(l)!;
    for (const [k, i] of members.entries()) {
      const t = tasks[i]!;
      const s = status[t.name];
      const phase = s?.phase ?? 'Pending';
      const branch = members.length === 1 ? '─' : k === 0 ? '┌' : k === members.length - 1 ? '└' : '├';
      const why = s?.reason
        ? `${s.reason}${s.message ? `: ${s.message.replace(/\s*\n\s*/g, ' ')}` : ''}`
        : '';
      rows.push([
        k === 0 ? String(l) : '',
        `${branch} ${MARK[phase]} ${t.name}`,
        phase + (s?.attempt && s.attempt > 1 ? ` (attempt ${s.attempt})` : ''),
        durationOf(s, now),
        (t.dependsOn ?? []).join(', '),
        why,
      ]);
    }
  }
  const title =
    'graph' in built ? `DAG (${tasks.length} tasks in ${byLevel.size} levels)` : `Tasks (${built.problem})`;
  return { title, rows };
}

import { Registry } from 'prom-client';
import { type ReconcileContext, type Result, silentLogger } from '../../../lib/index.js';
import { FakeClient } from '../../../lib/testing/index.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { type Session, SESSION_GVK, type SessionStatus } from '../../../controllers/session/index.js';
import {
  taskSessionName,
  type Workflow,
  WORKFLOW_GVK,
  WorkflowMetrics,
  WorkflowReconciler,
  type WorkflowSpec,
} from '../../../controllers/workflow/index.js';

export const SESSION_KIND = { gvk: SESSION_GVK, resource: 'sessions', namespaced: true };
export const WORKFLOW_KIND = { gvk: WORKFLOW_GVK, resource: 'workflows', namespaced: true };
export const RUN = { template: { image: 'busybox', command: ['true'] } };

/** Tasks from `name: deps` pairs, each running RUN. */
export function tasks(...specs: Array<string | [string, string[]]>): WorkflowSpec['tasks'] {
  return specs.map((s) =>
    typeof s === 'string' ? { name: s, session: RUN } : { name: s[0], dependsOn: s[1], session: RUN },
  );
}

/**
 * A Workflow reconciler over a fake client and a fake clock. The test plays the Session
 * controller: it sets the status of the Sessions the reconciler creates.
 */
export class Harness {
  readonly clock = new FakeClock(Date.UTC(2026, 0, 1));
  readonly client = new FakeClient({ clock: this.clock, kinds: [SESSION_KIND, WORKFLOW_KIND] });
  readonly registry = new Registry();
  readonly events: Array<{ type: string; reason: string; message: string }> = [];
  readonly reconciler: WorkflowReconciler;

  constructor(runnerImage?: string) {
    this.reconciler = this.newReconciler({ runnerImage, registry: this.registry });
  }

  /**
   * Another reconciler on the same API, as another process (or a restarted one) would be: no
   * memory of what this one did. Its metrics go to their own registry unless one is given.
   */
  newReconciler(
    opts: { runnerImage?: string; registry?: Registry; reconcileSpacingPerTaskMs?: number } = {},
  ): WorkflowReconciler {
    return new WorkflowReconciler({
      client: this.client,
      clock: this.clock,
      runnerImage: opts.runnerImage,
      // Each test steps the fake clock itself; the spacing of big Workflows' reconciles has its own.
      reconcileSpacingPerTaskMs: opts.reconcileSpacingPerTaskMs ?? 0,
      metrics: new WorkflowMetrics(opts.registry ?? new Registry()),
      recorder: { event: (_o, type, reason, message) => this.events.push({ type, reason, message }) },
    });
  }

  /**
   * A reconciler on the same API whose cache lags: its Session list never shows any Session
   * (created moments ago, not yet delivered by the watch).
   */
  laggingReconciler(): WorkflowReconciler {
    const client = this.client;
    const reader = {
      get: client.get.bind(client),
      list: async (gvk: typeof SESSION_GVK, opts?: Parameters<typeof client.list>[1]) =>
        gvk.kind === 'Session'
          ? { apiVersion: 'v1', kind: 'List', metadata: {}, items: [] }
          : client.list(gvk, opts),
    };
    return new WorkflowReconciler({ client, reader: reader as never, clock: this.clock });
  }

  async create(name: string, spec: Partial<WorkflowSpec> | unknown, namespace = 'ns'): Promise<Workflow> {
    return this.client.create<Workflow>({
      apiVersion: 'steward.dev/v1alpha1',
      kind: 'Workflow',
      metadata: { namespace, name },
      spec: spec as WorkflowSpec,
    });
  }

  ctx(): ReconcileContext {
    return { logger: silentLogger(), signal: new AbortController().signal, reconcileID: 'test' };
  }

  async reconcile(name: string, reconciler = this.reconciler, namespace = 'ns'): Promise<Result | void> {
    return reconciler.reconcile({ namespace, name }, this.ctx());
  }

  async workflow(name: string, namespace = 'ns'): Promise<Workflow> {
    return this.client.get<Workflow>(WORKFLOW_GVK, { namespace, name });
  }

  async sessions(namespace = 'ns'): Promise<Session[]> {
    return (await this.client.list<Session>(SESSION_GVK, { namespace })).items;
  }

  /** Names of the Sessions, sorted. */
  async sessionNames(namespace = 'ns'): Promise<string[]> {
    return (await this.sessions(namespace)).map((s) => s.metadata!.name!).sort();
  }

  async session(workflow: string, task: string, namespace = 'ns'): Promise<Session> {
    return this.client.get<Session>(SESSION_GVK, { namespace, name: taskSessionName(workflow, task) });
  }

  /** Plays the Session controller: writes the task Session's status. */
  async setSession(workflow: string, task: string, status: SessionStatus, namespace = 'ns'): Promise<void> {
    await this.client.patchStatus(
      SESSION_GVK,
      { namespace, name: taskSessionName(workflow, task) },
      { type: 'merge', body: { status } },
    );
  }

  async succeed(workflow: string, task: string, result?: string): Promise<void> {
    await this.setSession(workflow, task, {
      phase: 'Succeeded',
      attempt: 1,
      exitCode: 0,
      reason: 'Completed',
      message: 'Job completed',
      completionTime: new Date(this.clock.now()).toISOString(),
      ...(result === undefined ? {} : { result }),
    });
  }

  async fail(workflow: string, task: string, exitCode = 1): Promise<void> {
    await this.setSession(workflow, task, {
      phase: 'Failed',
      attempt: 1,
      exitCode,
      reason: 'ExitCode',
      message: `Attempt 1 failed: exit code ${exitCode}`,
      completionTime: new Date(this.clock.now()).toISOString(),
    });
  }

  /** Task phases by name. */
  async phases(name: string): Promise<Record<string, string>> {
    const wf = await this.workflow(name);
    return Object.fromEntries(Object.entries(wf.status?.tasks ?? {}).map(([k, v]) => [k, v.phase]));
  }
}

import { generationChanged, type Controller, type Manager, type Predicate } from '../../lib/index.js';
import { isTerminal, type Session, SESSION_GVK } from '../session/index.js';
import { WorkflowMetrics } from './metrics.js';
import { WorkflowReconciler } from './reconciler.js';
import { LABEL_WORKFLOW, WORKFLOW_GVK } from './types.js';

/** How `setupWorkflowController` configures the controller. */
export interface WorkflowControllerOptions {
  /** Default 10. */
  maxConcurrentReconciles?: number;
  /** The Session controller's --runner-image: task sessions without an image are valid with it. */
  runnerImage?: string;
}

/**
 * Session changes a Workflow acts on: deletions, resyncs, and updates that end the Session or
 * start another attempt. A Session's other steps (Starting → Running, our own cancel) change
 * nothing in the Workflow, so they enqueue nothing; nor does the appearance of a Session that has
 * not got that far (the Sessions the Workflow creates: the reconcile that created one already
 * counts it as running). One that appears already ended or retried (first seen after a watch
 * broke off) or in the informer's first list does enqueue.
 */
export const sessionProgressed: Predicate = (e) => {
  if (e.type === 'create') {
    const status = (e.object as Session).status;
    return e.isInInitialList || isTerminal(status?.phase) || (status?.attempt ?? 1) > 1;
  }
  if (e.type !== 'update' || e.isResync) return true;
  const before = (e.old as Session).status;
  const after = (e.object as Session).status;
  return isTerminal(before?.phase) !== isTerminal(after?.phase) || before?.attempt !== after?.attempt;
};

/**
 * Wires the Workflow controller into a Manager: watches Workflows (spec changes only: status
 * writes are our own) and the Sessions they own. The Session informer is the one the Session
 * controller uses, so running both costs one watch of Sessions.
 */
export function setupWorkflowController(mgr: Manager, opts: WorkflowControllerOptions = {}): Controller {
  // Every reconcile lists the Workflow's Sessions by this label: looked up by index, not by a scan
  // of every cached Session (which would make a namespace of many Workflows O(N²)).
  mgr.cache.indexLabel(SESSION_GVK, LABEL_WORKFLOW);
  const reconciler = new WorkflowReconciler({
    client: mgr.client,
    reader: mgr.cache,
    recorder: mgr.eventRecorder('steward-workflow'),
    metrics: new WorkflowMetrics(mgr.registry),
    runnerImage: opts.runnerImage,
  });
  return mgr
    .controller('workflow')
    .for(WORKFLOW_GVK, {
      predicates: [(e) => (e.type === 'update' && e.isResync) || generationChanged(e)],
    })
    .owns(SESSION_GVK, { predicates: [sessionProgressed] })
    .withOptions({ maxConcurrentReconciles: opts.maxConcurrentReconciles ?? 10 })
    .complete(reconciler);
}

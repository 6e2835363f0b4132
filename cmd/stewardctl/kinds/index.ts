// Every kind stewardctl knows. A kind's module (kinds/<kind>.ts) describes it; adding a kind is
// one import and one entry here. The first is the kind of a bare NAME.
import { KindRegistry } from '../kinds.js';
import { scheduleKind } from './schedule.js';
import { sessionKind } from './session.js';
import { workflowKind } from './workflow.js';

export function defaultKinds(): KindRegistry {
  return new KindRegistry([sessionKind, workflowKind, scheduleKind]);
}

#!/usr/bin/env node
// Copies the schema of a Session's template, input, startTimeoutSeconds, timeoutSeconds and retry
// from manifests/crd/steward.dev_sessions.yaml into the task session of
// manifests/crd/steward.dev_workflows.yaml, as text (comments and layout kept), less the
// template's own immutability rule: a Workflow's tasks are immutable as a whole.
// test/unit/manifests/workflow-manifests.test.ts fails while the two differ: run
//
//   node hack/sync-workflow-crd.mjs
//
// after changing the Session CRD's spec.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CRD = join(import.meta.dirname, '..', 'manifests', 'crd');
const session = readFileSync(join(CRD, 'steward.dev_sessions.yaml'), 'utf8').split('\n');
const workflowPath = join(CRD, 'steward.dev_workflows.yaml');
const workflow = readFileSync(workflowPath, 'utf8');

// In the Session CRD the fields sit under spec.properties at 16 spaces; in the Workflow CRD under
// spec.properties.tasks.items.properties.session.properties, at 26.
const from = session.indexOf('                template:');
const to = session.indexOf('                ttlSecondsAfterFinished:');
if (from < 0 || to < from)
  throw new Error('sync-workflow-crd: spec.template … retry not found in the Session CRD');
const block = session
  .slice(from, to)
  .join('\n')
  .replace(
    /\n {18}x-kubernetes-validations:\n {20}- rule: self == oldSelf\n {22}message: template is immutable/,
    '',
  )
  .split('\n')
  .map((l) => (l.trim() === '' ? l : `          ${l}`))
  .join('\n');

const start = workflow.indexOf('                          template:\n');
const end = workflow.indexOf('                parallelism:\n');
if (start < 0 || end < start)
  throw new Error('sync-workflow-crd: the task session not found in the Workflow CRD');
const next = `${workflow.slice(0, start)}${block}\n${workflow.slice(end)}`;
if (next === workflow) console.log('sync-workflow-crd: already in step');
else {
  writeFileSync(workflowPath, next);
  console.log('sync-workflow-crd: updated manifests/crd/steward.dev_workflows.yaml');
}

/**
 * The Workflow status's limits. A Workflow is one object in etcd, spec, metadata and status
 * together, and etcd refuses any write larger than its --max-request-bytes (1.5 MiB by
 * default): a status that grew past it could never be written again, not even the terminal
 * one. Every string the controller writes is therefore bounded, and the task entries share
 * what the spec leaves of that room: with 1,000 tasks each failing with a 4 KiB message, each
 * entry keeps the start of its message, marked as cut.
 */
import { boundReason, MAX_MESSAGE_LENGTH, truncate } from '../session/index.js';
import type { TaskStatus } from './types.js';

/** etcd's default --max-request-bytes: the largest object the API server can store. */
export const MAX_OBJECT_BYTES = 1_572_864;

/**
 * Room kept for everything but the task entries and the spec: metadata (annotations, labels,
 * owner references), the Workflow's message, its conditions (which repeat the message) and the
 * other status fields.
 */
const RESERVED_BYTES = 64 * 1024;

/**
 * What a task entry takes besides its message, at most: the task name as the key and the
 * Session name (63 characters each), phase, attempt, exit code, a reason of
 * MAX_TASK_REASON_LENGTH, two timestamps, the JSON around them.
 */
const TASK_ENTRY_BYTES = 480;

/** A task's reason: CamelCase words, never this long in practice; longer ones are cut. */
export const MAX_TASK_REASON_LENGTH = 128;

/** Below this many bytes a message would be little more than the truncation marker: none. */
const MIN_MESSAGE_BYTES = 64;

/**
 * How many bytes of JSON each task's message may take in `status.tasks`, for a Workflow of
 * `taskCount` tasks whose `spec.tasks` is `tasksBytes` bytes of JSON. The spec counts two and a
 * half times: its managed fields (metadata.managedFields) list its field names and every
 * task's name once more, escaped (measured: 1.2 times the spec for 1,000 tasks of 63-character
 * names with short sessions).
 */
export function taskMessageBytes(taskCount: number, tasksBytes: number): number {
  const room = MAX_OBJECT_BYTES - RESERVED_BYTES - Math.ceil(2.5 * tasksBytes);
  const each = Math.floor(room / Math.max(1, taskCount)) - TASK_ENTRY_BYTES;
  return Math.max(0, Math.min(MAX_MESSAGE_LENGTH, each));
}

const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2;

/**
 * `text` cut (with truncate's marker) so that it is at most `maxChars` characters and its JSON
 * at most `maxBytes` bytes: multi-byte characters and escapes count for what they take.
 */
export function truncateBytes(text: string, maxBytes: number, maxChars = MAX_MESSAGE_LENGTH): string {
  let limit = Math.min(maxChars, maxBytes);
  let out = truncate(text, limit);
  for (let bytes = jsonBytes(out); bytes > maxBytes && limit > 0; bytes = jsonBytes(out)) {
    limit = Math.max(0, Math.min(limit - 1, Math.floor((limit * maxBytes) / bytes)));
    out = truncate(text, limit);
  }
  return out;
}

/** The Workflow's own message (and its conditions'): at most MAX_MESSAGE_LENGTH characters. */
export const boundWorkflowMessage = (message: string): string => truncate(message, MAX_MESSAGE_LENGTH);

/**
 * A task entry within bounds: a reason that is a valid, short CamelCase reason (else the
 * phase), a message of at most `messageBytes` bytes of JSON. Deterministic, so an entry bound
 * once compares equal to itself bound again.
 */
export function boundTaskStatus(t: TaskStatus, messageBytes: number): TaskStatus {
  let out = t;
  if (t.reason !== undefined) {
    const reason = boundReason(t.reason, t.phase);
    const short = reason.length <= MAX_TASK_REASON_LENGTH ? reason : t.phase;
    if (short !== t.reason) out = { ...out, reason: short };
  }
  // A character takes at most 6 bytes of JSON (\u0001): most messages need no measuring.
  if (t.message !== undefined && t.message.length * 6 > messageBytes && jsonBytes(t.message) > messageBytes) {
    const message = messageBytes < MIN_MESSAGE_BYTES ? undefined : truncateBytes(t.message, messageBytes);
    out = { ...out, message };
    if (message === undefined) delete out.message;
  }
  return out;
}

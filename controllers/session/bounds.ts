/**
 * The Session API's limits, in one place: the CRD schema (manifests/crd/steward.dev_sessions.yaml)
 * states each of them, test/unit/manifests checks that the two agree, and the operator's own
 * validation (policy.ts) and status writes (status.ts) use these constants. A spec the schema
 * accepts is therefore one the operator handles and the Job API accepts, and a status the
 * operator writes is one the schema accepts.
 */

/**
 * Largest value of every field counted in seconds (timeouts, TTL, backoff delays): 2^31−1, the
 * Job API's int32 limit. In milliseconds it stays a safe integer, and a deadline that far ahead
 * is still a valid date, so no arithmetic on it loses precision or throws.
 */
export const MAX_SECONDS = 2_147_483_647;

/** Most retries after the first attempt. */
export const MAX_RETRY_LIMIT = 100;

/** Largest backoff multiplier (the delay is capped at maxSeconds anyway). */
export const MAX_BACKOFF_FACTOR = 100;

/** `status.message` and every other free-text field of status: longer text is truncated. */
export const MAX_MESSAGE_LENGTH = 4096;

/**
 * `status.result`: the kubelet reads at most 4 KiB of a container's termination message, so a
 * real result always fits; anything longer (a pod status written by something else) is cut.
 */
export const MAX_RESULT_LENGTH = 4096;

/** `status.reason` and conditions' reasons (metav1.Condition allows 1024). */
export const MAX_REASON_LENGTH = 1024;

/** The pattern of metav1.Condition's reason; a reason that does not match is replaced. */
export const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** Entries of `status.history`: the last attempts, oldest dropped first. */
export const MAX_HISTORY = 10;

/** A history entry's message. */
export const MAX_HISTORY_MESSAGE_LENGTH = 1024;

/** Kubernetes Events' messages are cut here (the events API's note limit). */
export const MAX_EVENT_MESSAGE_LENGTH = 1024;

/**
 * `spec.input` is handed to the pod as the single environment string `STEWARD_INPUT=<json>`,
 * which Linux limits to 128 KiB including the name and the terminating NUL (MAX_ARG_STRLEN).
 */
export const MAX_INPUT_BYTES = 131_072 - 'STEWARD_INPUT='.length - 1;

/**
 * How deeply `spec.input` may nest. The API server accepts JSON nested 10,000 levels, which
 * no JSON encoder or decoder in a pod should be asked to handle; 100 levels is far beyond any
 * real document.
 */
export const MAX_INPUT_DEPTH = 100;

/**
 * How deeply each free-form field of the template (`env[].valueFrom`, `envFrom[]`,
 * `tolerations[]`: the schema keeps their unknown fields, as they are a pod's own types) may
 * nest. The real fields are two or three levels deep; the bound keeps a spec the schema accepts
 * from making a Job that cannot even be serialized.
 */
export const MAX_TEMPLATE_DEPTH = 100;

const MARKER = (cut: number) => ` … [${cut} more characters truncated]`;

/**
 * `text` cut to at most `max` UTF-16 code units (and so at most `max` characters as the API
 * server counts them), ending with a marker that says how much was cut. Never splits a
 * surrogate pair.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // The marker's own length depends on the number it reports; one pass with the worst case
  // (everything after max cut) is always long enough.
  let keep = Math.max(0, max - MARKER(text.length).length);
  const code = text.charCodeAt(keep - 1);
  if (keep > 0 && code >= 0xd800 && code <= 0xdbff) keep--;
  return `${text.slice(0, keep)}${MARKER(text.length - keep)}`.slice(0, max);
}

/** `reason` if it is a valid condition reason within bounds, else `fallback`. */
export function boundReason(reason: string | undefined, fallback: string): string {
  if (reason !== undefined && reason.length <= MAX_REASON_LENGTH && REASON_PATTERN.test(reason)) {
    return reason;
  }
  return fallback;
}

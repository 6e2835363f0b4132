// Random Session specs within the CRD schema (manifests/crd/steward.dev_sessions.yaml), leaning
// on the edges: the longest strings and lists allowed, the largest numbers, unicode everywhere,
// env names no pod accepts, odd resource quantities, deep input up to the operator's bound (and
// past it), and every combination of retry, timeouts, TTL and cancel. The API server may still
// refuse some (a CEL rule, an int-or-string out of range): the fuzz test counts those apart.
import fc from 'fast-check';
import { FAILURE_CLASSES, MAX_INPUT_DEPTH, MAX_SECONDS } from '../../controllers/session/index.js';

const maybe = <T>(a: fc.Arbitrary<T>, freq = 2) => fc.option(a, { nil: undefined, freq });

/** Text with every kind of character: ASCII, multi-byte, astral (surrogate pairs), controls. */
const text = (maxLength: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: Math.min(maxLength, 40) }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: Math.min(maxLength, 40) }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(maxLength), '🚀'.repeat(Math.floor(maxLength / 2))) },
  );

/** Numbers in seconds, leaning on both ends of [min, MAX_SECONDS]. */
const seconds = (min: number) =>
  fc.oneof(
    fc.constantFrom(min, min + 1, MAX_SECONDS, MAX_SECONDS - 1),
    fc.integer({ min, max: 5 }),
    fc.integer({ min, max: MAX_SECONDS }),
  );

function nest(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 1; i < depth; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
}

/** An environment variable name: valid for a pod, or not (the schema only bounds its length). */
const envName = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/),
    fc.string({ minLength: 1, maxLength: 256 }),
    fc.constantFrom('A'.repeat(256), 'bad=name', '1START', 'with space', 'ünïcödé', '.', '..', 'a\u0000b'),
  )
  .filter((n) => n.length >= 1 && n.length <= 256 && !n.startsWith('STEWARD_'));

const envEntry = fc.record(
  {
    name: envName,
    value: maybe(text(200)),
    valueFrom: maybe(
      fc.oneof(
        fc.constant({ fieldRef: { fieldPath: 'metadata.name' } }),
        fc.constant({ resourceFieldRef: { resource: 'limits.cpu' } }),
        fc.constant({ secretKeyRef: { name: 'creds', key: 'token' } }),
        fc.constant({ configMapKeyRef: { name: 'settings', key: 'a' } }),
        fc.constant({}),
        fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
      ),
      4,
    ),
  },
  { requiredKeys: ['name'] },
);

/** A quantity matching the CRD's pattern, or an integer (int-or-string), in every form. */
const quantity = fc.oneof(
  fc.constantFrom('1', '500m', '0', '-1', '+1', '.5', '1.', '1Gi', '1.5Ki', '1e3', '1E-3', '1e+2', '1e1.5'),
  fc.constantFrom('1Ei', '999999999999999999999', '0.000000001', '1n', '1u', '9e18', '1e64', '1e-64'),
  fc.integer({ min: -5, max: 2 ** 31 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 0, 1),
  fc.stringMatching(/^[+-]?[0-9]{1,20}(\.[0-9]{0,6})?([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]{1,3})?$/),
);
const resourceName = fc.constantFrom(
  'cpu',
  'memory',
  'ephemeral-storage',
  'nvidia.com/gpu',
  'hugepages-2Mi',
  'bogus name',
  'pods',
);
const resources = fc.record(
  {
    limits: maybe(fc.dictionary(resourceName, quantity, { maxKeys: 4 })),
    requests: maybe(fc.dictionary(resourceName, quantity, { maxKeys: 4 })),
  },
  { requiredKeys: [] },
);

const key = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
  fc.constantFrom(
    'app',
    'app.kubernetes.io/name',
    'example.com/team',
    'kubernetes.io/hostname',
    'x'.repeat(64),
  ),
  fc.string({ minLength: 1, maxLength: 30 }),
);
const stringMap = (maxKeys: number) =>
  fc.dictionary(
    key.filter((k) => !k.startsWith('steward.dev/')),
    fc.oneof(fc.stringMatching(/^[a-z0-9]{0,20}$/), text(70)),
    { maxKeys },
  );

/** Any JSON, sometimes nested to the operator's bound, or past it, or long to its byte limit. */
const input = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(MAX_INPUT_DEPTH - 1, MAX_INPUT_DEPTH, MAX_INPUT_DEPTH + 1, 1_000).map(nest),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(131_057 - 2, 131_057 - 1, 131_057, 40_000).map((n) => 'é'.repeat(n / 2)),
  },
);

const retry = fc.record(
  {
    limit: maybe(fc.oneof(fc.constantFrom(0, 1, 100), fc.integer({ min: 0, max: 100 }))),
    backoff: maybe(
      fc
        .record(
          {
            initialSeconds: maybe(fc.oneof(fc.constantFrom(0, 1), seconds(0))),
            factor: maybe(
              fc.oneof(fc.constantFrom(1, 1.5, 100), fc.double({ min: 1, max: 100, noNaN: true })),
            ),
            maxSeconds: maybe(fc.oneof(fc.constantFrom(0, 1), seconds(0))),
          },
          { requiredKeys: [] },
        )
        .filter((b) => (b.maxSeconds ?? 300) >= (b.initialSeconds ?? 10)),
    ),
    on: maybe(fc.uniqueArray(fc.constantFrom(...FAILURE_CLASSES), { maxLength: 16 })),
    ignoreDisruptions: maybe(fc.boolean()),
    onExitCodes: maybe(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 256 })),
  },
  { requiredKeys: [] },
);

const template = fc.record(
  {
    image: maybe(
      fc.oneof(
        fc.constantFrom('busybox:1.36', 'registry.example/x@sha256:abc', ' spaced '),
        text(1024).filter((s) => s.length >= 1),
      ),
      5,
    ),
    command: maybe(fc.oneof(fc.array(text(50), { maxLength: 4 }), fc.constant(Array(256).fill('w')))),
    args: maybe(fc.oneof(fc.array(text(50), { maxLength: 4 }), fc.constant(Array(1024).fill('a')))),
    env: maybe(
      fc.oneof(
        { weight: 6, arbitrary: fc.array(envEntry, { maxLength: 8 }) },
        { weight: 2, arbitrary: fc.array(envEntry, { minLength: 200, maxLength: 256 }) },
        // Kept unknown fields, nested to the operator's bound and past it.
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(99, 101, 2_000)
            .map((d) => [
              { name: 'DEEP', valueFrom: { fieldRef: { fieldPath: 'metadata.name', x: nest(d) } } },
            ]),
        },
      ),
    ),
    envFrom: maybe(
      fc.array(
        fc.oneof(
          fc.constant({ configMapRef: { name: 'settings' } }),
          fc.constant({ secretRef: { name: 'creds' }, prefix: 'P_' }),
          fc.constant({ prefix: 'ONLY_' }),
          fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        ),
        { maxLength: 3 },
      ),
    ),
    resources: maybe(resources),
    serviceAccountName: maybe(
      fc.oneof(
        fc.constantFrom('default', 'builder', 'Not-A-Name', 'x'.repeat(253)),
        text(253).filter((s) => s.length >= 1),
      ),
    ),
    nodeSelector: maybe(stringMap(4)),
    tolerations: maybe(
      fc.array(
        fc.oneof(
          fc.constant({ operator: 'Exists' }),
          fc.constant({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }),
          fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        ),
        { maxLength: 3 },
      ),
    ),
    labels: maybe(stringMap(6)),
    annotations: maybe(stringMap(6)),
  },
  { requiredKeys: [] },
);

export const sessionSpec = fc.record(
  {
    template: maybe(template, 8),
    input: maybe(input),
    startTimeoutSeconds: maybe(fc.oneof(fc.constantFrom(1, 2, 3), seconds(1))),
    timeoutSeconds: maybe(fc.oneof(fc.constantFrom(1, 2), seconds(1))),
    retry: maybe(retry),
    ttlSecondsAfterFinished: maybe(fc.oneof(fc.constantFrom(0, 0, 1, 2), seconds(0))),
    cancel: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.boolean() },
    ),
    imagePullGraceSeconds: maybe(seconds(0)),
  },
  { requiredKeys: [] },
);

/** A Session name: a DNS subdomain of 1 to 253 characters, unique through its `i` prefix. */
export const sessionName = (i: number) =>
  fc
    .oneof(
      { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9]{0,12}$/) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(60, 61, 62, 63, 64, 200, 236, 237, 248).map((n) => 'n'.repeat(n)),
      },
      { weight: 1, arbitrary: fc.constant('x.'.repeat(120) + 'end') },
    )
    .map((s) => `f${i}${s ? `-${s}` : ''}`.slice(0, 253).replace(/[-.]+$/, ''));

/** What the stand-in for the Job controller and kubelet does with a Job. */
export type Fate = 'complete' | 'fail' | 'running' | 'starting' | 'delete';
export const fate: fc.Arbitrary<Fate> = fc.constantFrom(
  'complete',
  'complete',
  'fail',
  'running',
  'starting',
  'delete',
);

const IMAGE = { image: 'busybox:1.36' };

/**
 * Specs at each known edge, run before the random ones so that every run covers them: the
 * bounds of input and of kept unknown fields on both sides, the most and the least of every
 * number, 256 env names no pod accepts, every retry class with no backoff.
 */
export const EDGE_SPECS: unknown[] = [
  { template: IMAGE, input: nest(100) },
  { template: IMAGE, input: nest(101) },
  { template: IMAGE, input: 'x'.repeat(131_057 - 2) },
  { template: IMAGE, input: 'x'.repeat(131_057 - 1) },
  {
    template: {
      ...IMAGE,
      env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name', x: nest(99) } } }],
    },
  },
  {
    template: {
      ...IMAGE,
      env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name', x: nest(101) } } }],
    },
  },
  { template: { ...IMAGE, tolerations: [{ operator: 'Exists', x: nest(101) }] } },
  {
    template: {
      ...IMAGE,
      env: Array.from({ length: 256 }, (_, i) => ({ name: `bad=${i}-${'x'.repeat(240)}` })),
    },
  },
  {
    template: IMAGE,
    startTimeoutSeconds: MAX_SECONDS,
    timeoutSeconds: MAX_SECONDS,
    ttlSecondsAfterFinished: MAX_SECONDS,
    imagePullGraceSeconds: MAX_SECONDS,
    retry: { limit: 100, backoff: { initialSeconds: MAX_SECONDS, factor: 100, maxSeconds: MAX_SECONDS } },
  },
  { template: IMAGE, startTimeoutSeconds: 1, ttlSecondsAfterFinished: 0 },
  {
    template: IMAGE,
    timeoutSeconds: 1,
    retry: { limit: 100, backoff: { initialSeconds: 0, maxSeconds: 0 } },
  },
  {
    template: IMAGE,
    retry: { limit: 3, on: [...FAILURE_CLASSES], onExitCodes: [0, 255], ignoreDisruptions: true },
  },
  { template: { ...IMAGE, resources: { limits: { cpu: '1e1.5', memory: '999999999999999999999' } } } },
  { template: { ...IMAGE, resources: { requests: { cpu: 2, memory: '1Ei' } } } },
  { template: IMAGE, cancel: true, ttlSecondsAfterFinished: 0 },
  {},
];

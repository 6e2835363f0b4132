import { KubeConfig } from '@kubernetes/client-node';
import { ReconnectBackoff } from '../../../lib/cache/backoff.js';
import { InformerCache } from '../../../lib/cache/informer-cache.js';
import { SharedInformer } from '../../../lib/cache/informer.js';
import { Reflector } from '../../../lib/cache/reflector.js';
import { KubeClient } from '../../../lib/client/kube-client.js';
import { DiscoveryRESTMapper } from '../../../lib/client/rest-mapper.js';
import { TokenBucket } from '../../../lib/client/throttle.js';
import { Controller } from '../../../lib/controller/index.js';
import { EventRecorder } from '../../../lib/events/index.js';
import { FakeClient } from '../../../lib/testing/fake-client.js';
import { FakeClock } from '../../../lib/util/clock.js';
import {
  bucketRateLimiter,
  DelayingQueue,
  exponentialFailureRateLimiter,
  fastSlowRateLimiter,
  Queue,
  RateLimitingQueue,
} from '../../../lib/workqueue/index.js';

/**
 * Every exported timing knob of the queue, the rate limiters, the cache and the controller is
 * checked when the object is built: a negative, NaN or (where it has no meaning) infinite value
 * is a RangeError that names the option. Delays beyond Node's timer limit are not rejected:
 * `realClock` chains timers, so they are valid (see long-delay.test.ts).
 */

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const BAD = [-1, NaN];
const BAD_OR_INFINITE = [-1, NaN, Infinity];
const noop = { reconcile: async () => {} };
const fake = new FakeClient();
const sink = { replace: () => {}, event: () => {} };
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
  users: [{ name: 'u' }],
  contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
  currentContext: 'c',
});

// [what, option, bad values, build with the value]
const cases: Array<[string, string, number[], (v: number) => unknown]> = [
  ['Queue', 'maxPriorityWaitMs', BAD, (v) => new Queue({ maxPriorityWaitMs: v })],
  ['DelayingQueue', 'maxPriorityWaitMs', BAD, (v) => new DelayingQueue({ maxPriorityWaitMs: v })],
  ['RateLimitingQueue', 'maxPriorityWaitMs', BAD, (v) => new RateLimitingQueue({ maxPriorityWaitMs: v })],
  [
    'exponentialFailureRateLimiter',
    'baseDelayMs',
    BAD_OR_INFINITE,
    (v) => exponentialFailureRateLimiter(v, 10),
  ],
  [
    'exponentialFailureRateLimiter',
    'maxDelayMs',
    BAD_OR_INFINITE,
    (v) => exponentialFailureRateLimiter(1, v),
  ],
  ['fastSlowRateLimiter', 'fastDelayMs', BAD_OR_INFINITE, (v) => fastSlowRateLimiter(v, 10, 1)],
  ['fastSlowRateLimiter', 'slowDelayMs', BAD_OR_INFINITE, (v) => fastSlowRateLimiter(1, v, 1)],
  ['fastSlowRateLimiter', 'maxFastAttempts', [...BAD, 1.5], (v) => fastSlowRateLimiter(1, 10, v)],
  ['bucketRateLimiter', 'qps', [0, ...BAD_OR_INFINITE], (v) => bucketRateLimiter(v, 10)],
  ['bucketRateLimiter', 'burst', [0, 1.5, ...BAD_OR_INFINITE], (v) => bucketRateLimiter(10, v)],
  ['TokenBucket', 'qps', [NaN], (v) => new TokenBucket({ qps: v })],
  ['TokenBucket', 'burst', [0, ...BAD_OR_INFINITE], (v) => new TokenBucket({ burst: v })],
  [
    'ReconnectBackoff',
    'initialMs',
    BAD_OR_INFINITE,
    (v) => new ReconnectBackoff(new FakeClock(), { initialMs: v }),
  ],
  ['ReconnectBackoff', 'maxMs', BAD_OR_INFINITE, (v) => new ReconnectBackoff(new FakeClock(), { maxMs: v })],
  [
    'ReconnectBackoff',
    'factor',
    [0.5, ...BAD_OR_INFINITE],
    (v) => new ReconnectBackoff(new FakeClock(), { factor: v }),
  ],
  ['ReconnectBackoff', 'jitter', [1.5, ...BAD], (v) => new ReconnectBackoff(new FakeClock(), { jitter: v })],
  [
    'ReconnectBackoff',
    'resetAfterMs',
    BAD_OR_INFINITE,
    (v) => new ReconnectBackoff(new FakeClock(), { resetAfterMs: v }),
  ],
  [
    'Reflector',
    'watchIdleTimeoutMs',
    [0, ...BAD_OR_INFINITE],
    (v) => new Reflector(fake, sink, { gvk: CM, watchIdleTimeoutMs: v }),
  ],
  [
    'Reflector',
    'minWatchDurationMs',
    BAD_OR_INFINITE,
    (v) => new Reflector(fake, sink, { gvk: CM, minWatchDurationMs: v }),
  ],
  ['Reflector', 'pageSize', [0, 1.5, ...BAD], (v) => new Reflector(fake, sink, { gvk: CM, pageSize: v })],
  [
    'Reflector',
    'watchTimeoutSeconds',
    [0, ...BAD_OR_INFINITE],
    (v) => new Reflector(fake, sink, { gvk: CM, watchTimeoutSeconds: [v, 600] }),
  ],
  [
    'Reflector',
    'watchTimeoutSeconds',
    [299, ...BAD_OR_INFINITE],
    (v) => new Reflector(fake, sink, { gvk: CM, watchTimeoutSeconds: [300, v] }),
  ],
  [
    'Reflector',
    'backoff.initialMs',
    BAD,
    (v) => new Reflector(fake, sink, { gvk: CM, backoff: { initialMs: v } }),
  ],
  [
    'SharedInformer',
    'resyncPeriodMs',
    BAD_OR_INFINITE,
    (v) => new SharedInformer(fake, { gvk: CM, resyncPeriodMs: v }),
  ],
  [
    'SharedInformer',
    'reflector.watchIdleTimeoutMs',
    BAD,
    (v) => new SharedInformer(fake, { gvk: CM, reflector: { watchIdleTimeoutMs: v } }),
  ],
  [
    'SharedInformer',
    'reflector.backoff.maxMs',
    BAD,
    (v) => new SharedInformer(fake, { gvk: CM, reflector: { backoff: { maxMs: v } } }),
  ],
  [
    'InformerCache',
    'resyncPeriodMs',
    BAD_OR_INFINITE,
    (v) => new InformerCache({ client: fake, resyncPeriodMs: v }),
  ],
  [
    'InformerCache',
    'reflector.minWatchDurationMs',
    BAD,
    (v) => new InformerCache({ client: fake, reflector: { minWatchDurationMs: v } }),
  ],
  [
    'InformerCache.informerFor',
    'resyncPeriodMs',
    BAD,
    (v) => new InformerCache({ client: fake }).informerFor(CM, { resyncPeriodMs: v }),
  ],
  [
    'Controller',
    'reconcileTimeoutMs',
    BAD_OR_INFINITE,
    (v) => new Controller('c', noop, { reconcileTimeoutMs: v }),
  ],
  ['Controller', 'maxPriorityWaitMs', BAD, (v) => new Controller('c', noop, { maxPriorityWaitMs: v })],
  [
    'Controller',
    'maxConcurrentReconciles',
    [0, 1.5, ...BAD_OR_INFINITE],
    (v) => new Controller('c', noop, { maxConcurrentReconciles: v }),
  ],
  [
    'EventRecorder',
    'aggregationWindowMs',
    BAD_OR_INFINITE,
    (v) => new EventRecorder(fake, { component: 'x', aggregationWindowMs: v }),
  ],
  [
    'EventRecorder',
    'burst',
    [0, ...BAD_OR_INFINITE],
    (v) => new EventRecorder(fake, { component: 'x', burst: v }),
  ],
  [
    'EventRecorder',
    'refillMs',
    [0, ...BAD_OR_INFINITE],
    (v) => new EventRecorder(fake, { component: 'x', refillMs: v }),
  ],
  ['KubeClient', 'requestTimeoutMs', BAD, (v) => new KubeClient(kubeConfig, { requestTimeoutMs: v })],
  ['KubeClient', 'qps', [NaN], (v) => new KubeClient(kubeConfig, { qps: v })],
  ['KubeClient', 'burst', [0, ...BAD_OR_INFINITE], (v) => new KubeClient(kubeConfig, { burst: v })],
  [
    'KubeClient',
    'retry.maxRetries',
    [1.5, ...BAD],
    (v) => new KubeClient(kubeConfig, { retry: { maxRetries: v } }),
  ],
  [
    'KubeClient',
    'retry.baseDelayMs',
    BAD_OR_INFINITE,
    (v) => new KubeClient(kubeConfig, { retry: { baseDelayMs: v } }),
  ],
  [
    'KubeClient',
    'retry.maxDelayMs',
    BAD_OR_INFINITE,
    (v) => new KubeClient(kubeConfig, { retry: { maxDelayMs: v } }),
  ],
  [
    'DiscoveryRESTMapper',
    'missRefreshIntervalMs',
    BAD_OR_INFINITE,
    (v) => new DiscoveryRESTMapper(async () => undefined, { missRefreshIntervalMs: v }),
  ],
];

describe.each(cases)('%s %s', (_what, option, bad, build) => {
  test.each(bad)('%p is a RangeError naming the option', (v) => {
    let thrown: unknown;
    try {
      build(v);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toContain(option.split('.').pop()!);
  });
});

describe('good values are accepted', () => {
  test('defaults, zero where zero means "none", Infinity where it means "never"', () => {
    expect(() => new Queue({ maxPriorityWaitMs: 0 })).not.toThrow();
    expect(() => new Queue({ maxPriorityWaitMs: Infinity })).not.toThrow();
    expect(() => exponentialFailureRateLimiter(0, 0)).not.toThrow();
    expect(() => new TokenBucket({ qps: -1 })).not.toThrow();
    expect(() => new SharedInformer(fake, { gvk: CM, resyncPeriodMs: 0 })).not.toThrow();
    expect(() => new Controller('c', noop, { reconcileTimeoutMs: 0 })).not.toThrow();
    expect(() => new Controller('c', noop, { reconcileTimeoutMs: 30 * 86_400_000 })).not.toThrow();
    expect(() => new ReconnectBackoff(new FakeClock(), { jitter: 0, factor: 1 })).not.toThrow();
    expect(() => new Reflector(fake, sink, { gvk: CM, watchTimeoutSeconds: [60, 60] })).not.toThrow();
    // No request timeout; a timeout beyond Node's timer limit; retry for ever.
    for (const requestTimeoutMs of [0, 30 * 86_400_000, Infinity])
      expect(() => new KubeClient(kubeConfig, { requestTimeoutMs }).close()).not.toThrow();
    expect(() => new KubeClient(kubeConfig, { retry: { maxRetries: Infinity } }).close()).not.toThrow();
  });
});

export { defaultKeyOf, type KeyFunc } from './key.js';
export { Queue, LOW_PRIORITY, type QueueOptions, type AddOptions } from './queue.js';
export { DelayingQueue } from './delaying.js';
export { RateLimitingQueue, type RateLimitingQueueOptions } from './rate-limiting.js';
export {
  type RateLimiter,
  type ItemLimiterOptions,
  type BucketLimiterOptions,
  exponentialFailureRateLimiter,
  fastSlowRateLimiter,
  bucketRateLimiter,
  maxOfRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiters.js';

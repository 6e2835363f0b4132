export {
  Manager,
  LeaderElectionLostError,
  type ManagerOptions,
  type LeaderElectionOptions,
  type Runnable,
} from './manager.js';
export { CacheSyncTimeoutError, DEFAULT_CACHE_SYNC_TIMEOUT_MS } from './cache-sync.js';
export { ControllerBuilder, type BuilderWatchOptions, type BuilderOptions } from './builder.js';
export { BindError, type Check, parseBindAddress } from './servers.js';
export { setupSignalHandler } from './signals.js';

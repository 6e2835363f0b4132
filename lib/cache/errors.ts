import type { GVK } from '../client/gvk.js';
import { gvkString } from '../client/gvk.js';

/**
 * The cache reader was asked for a kind (or namespace) that no informer serves. Reading through
 * the cache never starts a watch as a side effect: register the informer (`informerFor`) when
 * setting up, or read from the API client instead.
 */
export class NoInformerError extends Error {
  readonly code = 'ERR_CACHE_NO_INFORMER';
  readonly gvk: GVK;
  constructor(gvk: GVK, detail = '') {
    super(
      `no informer serves ${gvkString(gvk)}${detail ? ` ${detail}` : ''}; register one with informerFor()`,
    );
    this.name = 'NoInformerError';
    this.gvk = gvk;
  }
}

/** A read needed an informer that has not been started (the cache's `start` was not called). */
export class CacheNotStartedError extends Error {
  readonly code = 'ERR_CACHE_NOT_STARTED';
  constructor() {
    super('the cache has not been started');
    this.name = 'CacheNotStartedError';
  }
}

/** A field selector the cache cannot evaluate (no index for the field, or an unsupported operator). */
export class UnsupportedSelectorError extends Error {
  readonly code = 'ERR_CACHE_UNSUPPORTED_SELECTOR';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedSelectorError';
  }
}

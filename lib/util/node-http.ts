import type * as HttpModule from 'node:http';
import { createRequire } from 'node:module';

/**
 * `node:http`, loaded with `require`. Importing it as an ES module makes Node build the
 * module's ESM namespace, which runs its lazy `WebSocket`, `CloseEvent` and `MessageEvent`
 * getters and with them Node's bundled undici and web streams: 17 MiB of RSS and 3 MiB of heap
 * that the client and the metrics and health servers never use. Import the types from
 * `node:http` with `import type` as usual.
 */
export const http: typeof HttpModule = createRequire(import.meta.url)('node:http') as typeof HttpModule;

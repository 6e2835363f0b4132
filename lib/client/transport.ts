import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { KubeConfigLike } from './kubeconfig.js';
import type { Registry } from 'prom-client';
import type { Clock } from '../util/clock.js';
import { MAX_TIMER_DELAY_MS, realClock } from '../util/clock.js';
import { http } from '../util/node-http.js';
import { checkNumber, describeValue } from '../util/options.js';
import type { Status, StatusError } from './errors.js';
import { RequestError, statusErrorFrom, WriteFencedError } from './errors.js';
import { ClientMetrics } from './metrics.js';
import type { RetryOptions } from './retry.js';
import {
  defaultRetryOptions,
  isRetriableNetworkError,
  isRetriableStatus,
  parseRetryAfter,
  retryDelayMs,
} from './retry.js';
import { TokenBucket } from './throttle.js';
import { toJSONBody } from './time.js';

/** The HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request of `RestTransport`. */
export interface RestRequest {
  method: HttpMethod;
  /** Path below the server URL, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Serialised as JSON (Dates as MicroTime) unless already a string. */
  body?: unknown;
  /** Default `application/json`. */
  contentType?: string;
  /**
   * Default `application/json`. `METADATA_ONLY` asks for the object's metadata alone (see
   * `WriteOptions.metadataOnlyResponse`).
   */
  accept?: string;
  signal?: AbortSignal;
}

/**
 * The Accept header that asks the API server for an object's metadata only: a
 * `PartialObjectMetadata` (meta.k8s.io/v1) in place of the object, for reads and writes alike.
 */
export const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** Options of `RestTransport` (and so of `KubeClient`). */
export interface TransportOptions {
  /**
   * Client-side throttling: one budget for every request of this client, default `DEFAULT_QPS`
   * (100) per second sustained. Zero or negative disables it.
   */
  qps?: number;
  /** Default `DEFAULT_BURST` (150). */
  burst?: number;
  /** Retries of 429, 5xx and connection failures. Defaults in `defaultRetryOptions`. */
  retry?: RetryOptions;
  /** Where to register `rest_client_*` metrics. None means no metrics are recorded at all. */
  registry?: Registry;
  /**
   * Connections to the API server for requests other than watches, at most; more requests at
   * once wait for one to be free. Default 64. Watches have connections of their own, as many as
   * there are watches. (Without a bound a burst of Events opens one TLS connection each: 70 at
   * once for 2,000 Sessions, each a handshake and some 80 KiB.)
   */
  maxConnections?: number;
  /**
   * Idle timeout of a non-streaming request, in ms: 0 means none; beyond Node's timer limit
   * (about 24.8 days) it is held at that limit. Default 60 000.
   */
  requestTimeoutMs?: number;
  /** Default `steward`. */
  userAgent?: string;
  /**
   * Asked right before each request other than a GET goes out (after the rate limiter's wait):
   * a reason refuses it with a `WriteFencedError`. The Manager's client refuses writes while
   * this process may no longer hold its leader Lease (see `LeaderElector.fenced`).
   */
  writeFence?: () => string | undefined;
  clock?: Clock;
}

/**
 * A keep-alive agent for one API server. Node's agent keys its connection pools by a name it
 * builds from the request's TLS options on every request, stringifying the CA, certificate and
 * key each time, and builds a TLS context (parsing them) for every new connection; a
 * transport's requests share those options (the same Buffers, from a static kubeconfig), so
 * the name and the context are made once per set of them.
 */
interface TlsMemo {
  ca: unknown;
  cert: unknown;
  key: unknown;
  servername: unknown;
  reject: unknown;
  name: string;
  context: tls.SecureContext | undefined;
}

class ServerAgent extends https.Agent {
  #last: TlsMemo | undefined;

  override getName(options: https.RequestOptions = {}): string {
    return this.#memo(options).name;
  }

  // Node calls this for a new connection with the request's options merged with the agent's.
  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const memo = this.#memo(options);
    if (memo.context === undefined && options.pfx === undefined) {
      memo.context = tls.createSecureContext({ ca: options.ca, cert: options.cert, key: options.key });
    }
    const withContext =
      memo.context === undefined
        ? options
        : ({ ...options, secureContext: memo.context } as https.RequestOptions);
    return super.createConnection(withContext, callback);
  }

  #memo(options: https.RequestOptions): TlsMemo {
    const l = this.#last;
    if (
      l !== undefined &&
      l.ca === options.ca &&
      l.cert === options.cert &&
      l.key === options.key &&
      l.servername === options.servername &&
      l.reject === options.rejectUnauthorized
    ) {
      return l;
    }
    this.#last = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      servername: options.servername,
      reject: options.rejectUnauthorized,
      name: super.getName(options),
      context: undefined,
    };
    return this.#last;
  }
}

/**
 * HTTP to the API server. Authentication and TLS material come from the kubeconfig's
 * `applyToHTTPSOptions`, asked afresh for each request so tokens that expire or rotate get
 * refreshed (`loadKubeConfig`'s static kubeconfig answers from memory; client-node's
 * `KubeConfig` runs exec plugins and OIDC refreshes). Connections are kept alive (client-node's
 * own agents do not, which would cost a TLS handshake per request) in two pools: at most
 * `maxConnections` for requests, and one per watch; behind a proxy client-node's proxy agent
 * is used as is.
 */
export class RestTransport {
  readonly host: string;
  #kc: KubeConfigLike;
  #useProxyAgent: boolean;
  #agent: HttpAgent;
  #streamAgent: HttpAgent;
  #protocol: string;
  #hostname: string;
  #port: string;
  // A path the server URL may carry (e.g. behind a gateway), prefixed to every request path.
  #prefix: string;
  #bucket: TokenBucket;
  #retry: Required<RetryOptions>;
  #metrics: ClientMetrics | undefined;
  #timeoutMs: number;
  #userAgent: string;
  #writeFence: (() => string | undefined) | undefined;
  #clock: Clock;

  constructor(kubeConfig: KubeConfigLike, opts: TransportOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new TypeError('kubeconfig has no current cluster');
    this.#kc = kubeConfig;
    const server = new URL(cluster.server.replace(/\/+$/, ''));
    this.host = server.host;
    this.#protocol = server.protocol;
    this.#hostname = server.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = server.port;
    this.#prefix = server.pathname === '/' ? '' : server.pathname;
    this.#useProxyAgent = Boolean(cluster.proxyUrl);
    checkTransportOptions(opts);
    const maxSockets = opts.maxConnections ?? 64;
    const agent = (bounded: boolean): HttpAgent => {
      const o = { keepAlive: true, maxSockets: bounded ? maxSockets : Infinity };
      return server.protocol === 'https:' ? new ServerAgent(o) : new http.Agent(o);
    };
    this.#agent = agent(true);
    this.#streamAgent = agent(false);
    this.#clock = opts.clock ?? realClock;
    this.#bucket = new TokenBucket({ qps: opts.qps, burst: opts.burst, clock: this.#clock });
    this.#retry = { ...defaultRetryOptions, ...opts.retry };
    this.#metrics = opts.registry ? new ClientMetrics(opts.registry, this.host) : undefined;
    // A socket timer: Node truncates a longer one with a TimeoutOverflowWarning.
    this.#timeoutMs = Math.min(opts.requestTimeoutMs ?? 60_000, MAX_TIMER_DELAY_MS);
    this.#userAgent = opts.userAgent ?? 'steward';
    this.#writeFence = opts.writeFence;
  }

  /** Sends a request, retrying as configured; resolves the parsed JSON body (undefined when empty). */
  async request(req: RestRequest): Promise<unknown> {
    const payload =
      req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : toJSONBody(req.body);
    for (let retry = 0; ; retry++) {
      let res: IncomingMessage;
      let body: string;
      try {
        res = await this.#send(req, payload, false);
        body = await readBody(res);
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (err instanceof WriteFencedError) throw err;
        if (retry < this.#retry.maxRetries && isRetriableNetworkError(err, req.method)) {
          await this.#sleep(retryDelayMs(retry, undefined, this.#retry), req.signal);
          continue;
        }
        throw err instanceof RequestError
          ? err
          : new RequestError(`${req.method} ${req.path}: ${String(err)}`, { cause: err });
      }
      const status = res.statusCode ?? 0;
      if (status < 400) return body.length === 0 ? undefined : JSON.parse(body);
      const error = this.#errorFor(req, res, body);
      const retryAfterHeader = res.headers['retry-after'];
      if (
        retry < this.#retry.maxRetries &&
        isRetriableStatus(status, req.method, retryAfterHeader !== undefined)
      ) {
        await this.#sleep(retryDelayMs(retry, error.retryAfterSeconds, this.#retry), req.signal);
        continue;
      }
      throw error;
    }
  }

  /**
   * Opens a streaming GET (a watch) and resolves the response once its status is 200; any other
   * status rejects with the matching `StatusError`. Not retried: the reflector owns that policy.
   */
  async stream(req: RestRequest): Promise<IncomingMessage> {
    let res: IncomingMessage;
    try {
      res = await this.#send(req, undefined, true);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw new RequestError(`${req.method} ${req.path}: ${String(err)}`, { cause: err });
    }
    if (res.statusCode === 200) return res;
    throw this.#errorFor(req, res, await readBody(res));
  }

  /** Closes idle keep-alive connections. Requests in flight finish. */
  close(): void {
    this.#agent.destroy();
    this.#streamAgent.destroy();
  }

  async #send(req: RestRequest, payload: string | undefined, streaming: boolean): Promise<IncomingMessage> {
    const waited = await this.#bucket.acquire(req.signal);
    this.#metrics?.waited(req.method, waited / 1000);
    if (req.method !== 'GET' && this.#writeFence !== undefined) {
      const why = this.#writeFence();
      if (why !== undefined) throw new WriteFencedError(`${req.method} ${req.path} not sent: ${why}`);
    }

    const opts: https.RequestOptions = {};
    await this.#kc.applyToHTTPSOptions(opts);
    const headers = this.#useProxyAgent
      ? headerObject(req, payload, opts, this.#userAgent)
      : this.#headerList(req, payload, opts);
    const requestOptions: https.RequestOptions = {
      protocol: this.#protocol,
      hostname: this.#hostname,
      port: this.#port,
      path: this.#prefix + req.path + queryString(req.query),
      method: req.method,
      headers,
      agent: this.#useProxyAgent ? opts.agent : streaming ? this.#streamAgent : this.#agent,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
      // A header list carries the credentials itself (Node adds Basic auth to header objects only).
      auth: Array.isArray(headers) ? undefined : opts.auth,
    };
    if (req.signal !== undefined) requestOptions.signal = req.signal;
    const started = performance.now();
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = (this.#protocol === 'https:' ? https : http).request(requestOptions);
      r.on('response', (res) => {
        this.#metrics?.request(String(res.statusCode ?? 0), req.method, (performance.now() - started) / 1000);
        resolve(res);
      });
      r.on('error', (err) => {
        this.#metrics?.request('<error>', req.method, (performance.now() - started) / 1000);
        reject(err);
      });
      if (!streaming) {
        r.setTimeout(this.#timeoutMs, () => {
          const err = Object.assign(new Error(`no response within ${this.#timeoutMs} ms`), {
            code: 'ETIMEDOUT',
          });
          r.destroy(err);
        });
      }
      r.end(payload);
    });
  }

  /**
   * The request's headers as a flat list of names and values, the kubeconfig's credentials
   * included. Node validates a list as it does an object, but writes it as given: no header
   * table built per request (lower-cased names, a lookup for each header Node adds), which was
   * a measurable part of a request's CPU. So the list names the Host header itself, and Basic
   * auth. Not used through a proxy agent, which may rewrite the headers after the fact.
   */
  #headerList(req: RestRequest, payload: string | undefined, opts: https.RequestOptions): string[] {
    const list = [
      'Host',
      this.host,
      'Accept',
      req.accept ?? 'application/json',
      'User-Agent',
      this.#userAgent,
    ];
    let authorization = false;
    const extra = opts.headers as OutgoingHttpHeaders | undefined;
    for (const name in extra) {
      const value = extra[name];
      if (value === undefined || OWN_HEADERS.has(name.toLowerCase())) continue;
      if (name.toLowerCase() === 'authorization') authorization = true;
      if (Array.isArray(value)) for (const v of value) list.push(name, v);
      else list.push(name, String(value));
    }
    if (opts.auth && !authorization)
      list.push('Authorization', `Basic ${Buffer.from(opts.auth).toString('base64')}`);
    if (payload !== undefined) {
      list.push('Content-Type', req.contentType ?? 'application/json');
      list.push('Content-Length', String(Buffer.byteLength(payload)));
    }
    return list;
  }

  #errorFor(req: RestRequest, res: IncomingMessage, text: string): StatusError {
    const status = res.statusCode ?? 0;
    let parsed: Status | undefined;
    let message: string | undefined;
    try {
      const json = JSON.parse(text) as Status;
      if (json && json.kind === 'Status') parsed = json;
      else message = truncate(text, 500);
    } catch {
      message = truncate(text, 500) || res.statusMessage;
    }
    const header = res.headers['retry-after'];
    return statusErrorFrom({
      status,
      body: parsed,
      message,
      request: `${req.method} ${req.path}`,
      retryAfterSeconds: parseRetryAfter(Array.isArray(header) ? header[0] : header, this.#clock.now()),
    });
  }

  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      signal?.throwIfAborted();
      const onAbort = (): void => {
        this.#clock.clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Headers the transport sets itself; the kubeconfig's headers of these names are not sent. */
const OWN_HEADERS = new Set(['host', 'accept', 'user-agent', 'content-type', 'content-length']);

/** The request's headers as an object (for a proxy agent), the transport's own winning. */
function headerObject(
  req: RestRequest,
  payload: string | undefined,
  opts: https.RequestOptions,
  userAgent: string,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ...(opts.headers as OutgoingHttpHeaders | undefined),
    Accept: req.accept ?? 'application/json',
    'User-Agent': userAgent,
  };
  if (payload !== undefined) {
    headers['Content-Type'] = req.contentType ?? 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return headers;
}

/** At most `max` UTF-16 units of `text`, never ending inside a surrogate pair (which prints as U+FFFD). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** The transport's numeric options, named as `KubeClient` takes them (a RangeError if bad). */
function checkTransportOptions(opts: TransportOptions): void {
  const what = 'KubeClient';
  // Any qps <= 0 turns throttling off; only NaN (or not a number) is meaningless.
  if (opts.qps !== undefined && (typeof opts.qps !== 'number' || Number.isNaN(opts.qps)))
    throw new RangeError(
      `${what}: qps must be a number (<= 0 disables throttling), got ${describeValue(opts.qps)}`,
    );
  checkNumber(what, 'burst', opts.burst, { min: 1 });
  checkNumber(what, 'requestTimeoutMs', opts.requestTimeoutMs, { infinite: true });
  checkNumber(what, 'maxConnections', opts.maxConnections, { min: 1, integer: true, infinite: true });
  checkNumber(what, 'retry.maxRetries', opts.retry?.maxRetries, { integer: true, infinite: true });
  checkNumber(what, 'retry.baseDelayMs', opts.retry?.baseDelayMs);
  checkNumber(what, 'retry.maxDelayMs', opts.retry?.maxDelayMs);
}

/** `?k=v&...` for the defined values, or '' when there are none. */
function queryString(query: RestRequest['query']): string {
  if (query === undefined) return '';
  let out = '';
  for (const k in query) {
    const v = query[k];
    if (v === undefined) continue;
    out += `${out === '' ? '?' : '&'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  }
  return out;
}

/**
 * The whole body as text. Events rather than async iteration: one promise per response, not per
 * chunk. Decoded as it arrives (the decoder carries a character split between chunks over), so
 * each chunk is dropped at once and no Buffer is joined out of Node's shared allocation pool,
 * whose 64 KiB slabs outlive the response (see read-chunks.ts).
 */
function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    res.setEncoding('utf8');
    let body = '';
    res.on('data', (chunk: string) => (body += chunk));
    res.once('end', () => resolve(body));
    res.once('error', reject);
    // A connection lost mid-body may end the stream without 'end' or 'error'.
    res.once('close', () => {
      if (!res.complete) reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }));
    });
  });
}

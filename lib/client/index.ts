// The client: typed CRUD, patch, status and watch over the Kubernetes REST API.
export * from './gvk.js';
export * from './object.js';
export * from './errors.js';
export * from './time.js';
export * from './patch.js';
export * from './apply-patch.js';
export * from './selectors.js';
export * from './client.js';
export * from './rest-mapper.js';
export { BUILTIN_KINDS } from './builtin-kinds.js';
export * from './throttle.js';
export * from './retry.js';
export { ClientMetrics } from './metrics.js';
export { RestTransport } from './transport.js';
export type { RestRequest, TransportOptions, HttpMethod } from './transport.js';
export * from './kube-client.js';
export * from './kubeconfig.js';

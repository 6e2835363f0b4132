/**
 * For tests only (`steward/testing`): a real control plane (etcd + kube-apiserver, optionally
 * a kwok cluster), an in-memory fake client, a fake clock, and helpers to wait on conditions.
 * It spawns processes and makes certificates: never import it from runtime code.
 *
 * @module steward/testing
 */
export { ADMIN_USER, ControlPlane, startControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { DEFAULT_CONTROLLERS } from './components.js';
export {
  FAKE_ATTEMPT_LABEL,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_FAILURE_ANNOTATION,
  FAKE_FAILURES,
  FAKE_RESULT_ANNOTATION,
  FAKE_RUN_SECONDS_ANNOTATION,
  type FakeNodeOptions,
} from './kwok.js';
export {
  defaultCacheDirectory,
  locateBinaries,
  readVersions,
  type BinaryLocationOptions,
  type BinaryPaths,
  type ControlPlaneVersions,
} from './binaries.js';
export {
  BinaryNotFoundError,
  CertificateError,
  ControlPlaneError,
  ControlPlaneStoppedError,
  ProcessExitedError,
  WaitTimeoutError,
} from './errors.js';
export { freePorts, waitFor, type WaitOptions } from './wait.js';
export { FakeClock } from '../util/clock.js';
export {
  FakeClient,
  type FakeAction,
  type FakeClientOptions,
  type FakeReactor,
  type FakeVerb,
} from './fake-client.js';
export {
  type CoreEvent,
  createAll,
  finishJob,
  installCRDs,
  readManifests,
  waitForEvents,
} from './objects.js';

// lib/testing: a real control plane for tests and local runs, and helpers to wait on it.
export { ADMIN_USER, ControlPlane, startControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { DEFAULT_CONTROLLERS } from './components.js';
export {
  FAKE_ATTEMPT_LABEL,
  FAKE_EXIT_CODE_ANNOTATION,
  FAKE_FAILURE_ANNOTATION,
  FAKE_FAILURES,
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
export { createAll, finishJob, installCRDs, readManifests } from './objects.js';

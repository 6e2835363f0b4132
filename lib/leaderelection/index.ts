export { LeaderElector, type LeaderElectorOptions } from './elector.js';
export { LeaseLock, LEASE_GVK, type LeaderElectionRecord, type Lease, type LeaseSpec } from './lease-lock.js';

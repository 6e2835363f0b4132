/**
 * Command lines of the control-plane components, in one place so the choices and their reasons
 * sit next to each other. Everything listens on 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Files and ports every component's flags refer to. */
export interface Layout {
  dir: string;
  etcdClientPort: number;
  etcdPeerPort: number;
  apiServerPort: number;
  caCert: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPublicKey: string;
  adminKubeconfig: string;
}

/**
 * The kube-controller-manager controllers a test cluster needs to run Jobs and clean up after
 * them. Deployments and ReplicaSets come along so later e2e tests can deploy workloads on kwok;
 * the ResourceQuota controller so that quotas are enforced (its admission plugin refuses every
 * object a quota covers until the controller has computed the quota's usage).
 */
export const DEFAULT_CONTROLLERS = [
  'job-controller',
  'resourcequota-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'ttl-after-finished-controller',
  'pod-garbage-collector-controller',
  'deployment-controller',
  'replicaset-controller',
];

/** `etcdVersion` is `[major, minor]` from `etcd --version`. */
export function etcdArgs(l: Layout, etcdVersion: [number, number]): string[] {
  const client = `http://127.0.0.1:${l.etcdClientPort}`;
  const peer = `http://127.0.0.1:${l.etcdPeerPort}`;
  return [
    `--name=default`,
    `--data-dir=${l.dir}/etcd`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--log-level=warn',
    // A test cluster's data is disposable: skipping fsync makes every write several times faster.
    // etcd 3.4 (Debian's, the documented fallback) has no such flag.
    ...(etcdVersion[0] > 3 || (etcdVersion[0] === 3 && etcdVersion[1] >= 5) ? ['--unsafe-no-fsync'] : []),
  ];
}

export function apiServerArgs(l: Layout): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${l.etcdClientPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${l.apiServerPort}`,
    `--cert-dir=${l.dir}/apiserver`,
    `--tls-cert-file=${l.servingCert}`,
    `--tls-private-key-file=${l.servingKey}`,
    `--client-ca-file=${l.caCert}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    `--service-account-issuer=https://127.0.0.1:${l.apiServerPort}/`,
    `--service-account-key-file=${l.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${l.serviceAccountKey}`,
    '--allow-privileged=true',
    // ServiceAccount admission would reject pods until the namespace's `default` account exists
    // (and in apiserver-only mode nothing creates it), as envtest does. TaintNodesByCondition
    // taints every new Node not-ready until the node-lifecycle controller lifts it; without it,
    // kwok's nodes are schedulable as soon as they are Ready, with no controller in the loop.
    '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
    // No kube-proxy or real endpoints here; a static reconciler would only add churn.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(l: Layout, port: number, controllers: string[]): string[] {
  return [
    `--kubeconfig=${l.adminKubeconfig}`,
    '--leader-elect=false',
    `--controllers=${controllers.join(',')}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${l.dir}/controller-manager`,
    `--root-ca-file=${l.caCert}`,
    `--service-account-private-key-file=${l.serviceAccountKey}`,
    // Defaults (20 qps) are sized for a shared production apiserver; tests create Jobs in bursts.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--concurrent-job-syncs=20',
  ];
}

export function schedulerArgs(l: Layout, port: number): string[] {
  return [
    `--kubeconfig=${l.adminKubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${l.dir}/scheduler`,
  ];
}

export function kwokArgs(l: Layout, port: number, configPath: string): string[] {
  return [
    `--kubeconfig=${l.adminKubeconfig}`,
    `--config=${configPath}`,
    '--manage-all-nodes=true',
    // kwok's default pod CIDR is 10.0.0.0/24, the same as the service range above.
    '--cidr=10.244.0.0/16',
    `--server-address=127.0.0.1:${port}`,
    // Node leases like a kubelet's, so anything watching node health sees live nodes.
    '--node-lease-duration-seconds=40',
  ];
}

/** Asks an etcd binary for its version; `[0, 0]` if it does not say. */
export async function probeEtcdVersion(etcd: string): Promise<[number, number]> {
  const { stdout } = await execFileAsync(etcd, ['--version']);
  const m = /etcd Version: (\d+)\.(\d+)/.exec(stdout);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

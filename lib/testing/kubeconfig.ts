/**
 * Kubeconfigs for the test control plane: an in-memory `KubeConfig` for code and the same thing
 * as a file for kubectl and the controller manager, scheduler and kwok.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';

export interface KubeconfigSpec {
  /** `https://127.0.0.1:<port>` */
  server: string;
  caPem: string;
  /** The user's client certificate and key; the CN is the user, each O a group. */
  certPem: string;
  keyPem: string;
  /** The user name, used to name the kubeconfig's user and context. */
  user: string;
}

const CLUSTER = 'steward-test';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function contextName(user: string): string {
  return `${user}@${CLUSTER}`;
}

/** An in-memory `KubeConfig` whose current context authenticates as `spec.user`. */
export function kubeConfigFrom(spec: KubeconfigSpec): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: CLUSTER, server: spec.server, caData: b64(spec.caPem), skipTLSVerify: false }],
    users: [{ name: spec.user, certData: b64(spec.certPem), keyData: b64(spec.keyPem) }],
    contexts: [{ name: contextName(spec.user), cluster: CLUSTER, user: spec.user }],
    currentContext: contextName(spec.user),
  });
  return kc;
}

/** The kubeconfig file format (JSON is valid YAML, which every client reads). */
export function kubeconfigText(spec: KubeconfigSpec): string {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: CLUSTER, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } },
    ],
    users: [
      {
        name: spec.user,
        user: { 'client-certificate-data': b64(spec.certPem), 'client-key-data': b64(spec.keyPem) },
      },
    ],
    contexts: [{ name: contextName(spec.user), context: { cluster: CLUSTER, user: spec.user } }],
    'current-context': contextName(spec.user),
    preferences: {},
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<void> {
  await writeFile(path, kubeconfigText(spec), { mode: 0o600 });
}

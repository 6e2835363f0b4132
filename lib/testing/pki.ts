/**
 * A throw-away certificate authority for the test control plane. Node's crypto makes the keys
 * (ECDSA P-256: fast to generate, accepted by every Kubernetes component); Node cannot write
 * X.509 certificates, so the `openssl` CLI (3.0+, for `req -x509 -CA`) signs them. That keeps
 * the harness free of an npm dependency for a job one subprocess per certificate does well.
 */
import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { CertificateError } from './errors.js';

const execFileAsync = promisify(execFile);
const generateKeyPairAsync = promisify(generateKeyPair);

/** A private key and the certificate for it, in PEM, and where both were written. */
export interface IssuedCertificate {
  keyPem: string;
  certPem: string;
  keyPath: string;
  certPath: string;
}

export interface CertificateRequest {
  /** The subject CN; for client certificates, the Kubernetes user name. */
  commonName: string;
  /** Subject O entries; for client certificates, the Kubernetes groups. */
  organizations?: string[];
  /** `server` adds serverAuth and the subject alternative names; `client` adds clientAuth. */
  usage: 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
}

// A config with no default extensions, so a certificate carries exactly the -addext ones.
const OPENSSL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';
const VALID_DAYS = '3650';

/** An ECDSA P-256 key pair in PEM (PKCS#8 private key, SPKI public key). */
export async function generateKeys(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export class CertificateAuthority {
  readonly certPem: string;
  readonly certPath: string;
  readonly #keyPath: string;
  readonly #dir: string;
  readonly #configPath: string;
  #serial = 0;

  private constructor(dir: string, configPath: string, certPem: string, certPath: string, keyPath: string) {
    this.#dir = dir;
    this.#configPath = configPath;
    this.certPem = certPem;
    this.certPath = certPath;
    this.#keyPath = keyPath;
  }

  /** Makes a new self-signed CA whose files live in `dir` under `name`.crt / `name`.key. */
  static async create(dir: string, name: string): Promise<CertificateAuthority> {
    const configPath = join(dir, 'openssl.cnf');
    await writeFile(configPath, OPENSSL_CONFIG);
    const keyPath = join(dir, `${name}.key`);
    const certPath = join(dir, `${name}.crt`);
    const { privateKeyPem } = await generateKeys();
    await writeFile(keyPath, privateKeyPem, { mode: 0o600 });
    await openssl([
      ...['req', '-x509', '-new', '-sha256', '-days', VALID_DAYS, '-config', configPath],
      ...['-key', keyPath, '-subj', subject(`steward-${name}`), '-out', certPath],
      ...['-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
    ]);
    return new CertificateAuthority(dir, configPath, await readFile(certPath, 'utf8'), certPath, keyPath);
  }

  /** Issues a certificate signed by this CA; `fileName` names the .key/.crt files in the CA's dir. */
  async issue(req: CertificateRequest, fileName = `cert-${++this.#serial}`): Promise<IssuedCertificate> {
    const keyPath = join(this.#dir, `${fileName}.key`);
    const certPath = join(this.#dir, `${fileName}.crt`);
    const { privateKeyPem } = await generateKeys();
    await writeFile(keyPath, privateKeyPem, { mode: 0o600 });
    const ext = ['-addext', 'basicConstraints=critical,CA:FALSE'];
    ext.push('-addext', 'keyUsage=critical,digitalSignature');
    ext.push('-addext', `extendedKeyUsage=${req.usage === 'server' ? 'serverAuth' : 'clientAuth'}`);
    const sans = [
      ...(req.dnsNames ?? []).map((n) => `DNS:${n}`),
      ...(req.ipAddresses ?? []).map((ip) => `IP:${ip}`),
    ];
    if (sans.length > 0) ext.push('-addext', `subjectAltName=${sans.join(',')}`);
    await openssl([
      ...['req', '-x509', '-new', '-sha256', '-days', VALID_DAYS, '-config', this.#configPath],
      ...['-key', keyPath, '-CA', this.certPath, '-CAkey', this.#keyPath],
      ...['-subj', subject(req.commonName, req.organizations), '-out', certPath],
      ...ext,
    ]);
    return { keyPem: privateKeyPem, certPem: await readFile(certPath, 'utf8'), keyPath, certPath };
  }
}

/** An openssl `-subj` string; O entries first, as Kubernetes reads every O as a group. */
function subject(commonName: string, organizations: string[] = []): string {
  const escape = (s: string) => s.replace(/[\\/+=,]/g, (c) => `\\${c}`);
  return [...organizations.map((o) => `/O=${escape(o)}`), `/CN=${escape(commonName)}`].join('');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new CertificateError('the openssl CLI (3.0+) is needed to sign test certificates; install it', {
        cause: err,
      });
    }
    throw new CertificateError(`openssl ${args[0]} failed: ${e.stderr?.trim() ?? e.message}`, { cause: err });
  }
}

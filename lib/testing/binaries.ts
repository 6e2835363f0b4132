/**
 * Where the control-plane binaries live. hack/binaries.sh builds them once per version into
 * `$STEWARD_BIN_DIR/<name>-<version>/<name>` (default `~/.cache/steward/bin`), reading the versions
 * from hack/versions.env; this module reads the same file so the two never disagree.
 * `KUBEBUILDER_ASSETS`, the envtest convention, overrides all of it with one flat directory.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BinaryNotFoundError } from './errors.js';

/** Absolute paths of everything the control plane may run. */
export interface BinaryPaths {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  /** kwok's stock stage YAMLs (node-initialize, heartbeat, pod-ready, pod-delete, ...). */
  kwokStagesDir: string;
}

/** The versions pinned in hack/versions.env. */
export interface ControlPlaneVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
}

/** Where `locateBinaries` looks. */
export interface BinaryLocationOptions {
  /**
   * A flat directory holding `etcd`, `kube-apiserver`, ... and `stages/` for kwok.
   * Default: `$KUBEBUILDER_ASSETS`, else the versioned cache below.
   */
  assetsDirectory?: string;
  /** The versioned cache. Default: `$STEWARD_BIN_DIR`, else `~/.cache/steward/bin`. */
  cacheDirectory?: string;
}

const HINT =
  "run 'make binaries' (hack/binaries.sh, needs Go >= 1.26) or set KUBEBUILDER_ASSETS to a directory holding them";

/** The default cache directory, the same one hack/binaries.sh fills. */
export function defaultCacheDirectory(): string {
  if (process.env.STEWARD_BIN_DIR) return process.env.STEWARD_BIN_DIR;
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'steward', 'bin');
}

/**
 * Reads hack/versions.env, found by walking up from this module (it sits two levels up in the
 * source tree and three in dist/).
 */
export function readVersions(): ControlPlaneVersions {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'hack', 'versions.env');
    if (existsSync(file)) return parseVersions(readFileSync(file, 'utf8'), file);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new BinaryNotFoundError(
        'hack/versions.env',
        `cannot find hack/versions.env above ${fileURLToPath(import.meta.url)}; set KUBEBUILDER_ASSETS to a directory holding etcd and kube-apiserver`,
      );
    }
    dir = parent;
  }
}

function parseVersions(text: string, file: string): ControlPlaneVersions {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=("?)([^"#\s]*)\2\s*(#.*)?$/.exec(line);
    if (m) values.set(m[1]!, m[3]!);
  }
  const get = (key: string): string => {
    const v = values.get(key);
    if (!v) throw new BinaryNotFoundError(file, `${file} does not set ${key}`);
    return v;
  };
  return { kubernetes: get('KUBERNETES_VERSION'), etcd: get('ETCD_VERSION'), kwok: get('KWOK_VERSION') };
}

/** Computes where each binary should be; `requireExecutable` checks that it is. */
export function locateBinaries(opts: BinaryLocationOptions = {}): BinaryPaths {
  const assets = opts.assetsDirectory ?? process.env.KUBEBUILDER_ASSETS;
  if (assets) {
    return {
      etcd: join(assets, 'etcd'),
      kubeApiserver: join(assets, 'kube-apiserver'),
      kubeControllerManager: join(assets, 'kube-controller-manager'),
      kubeScheduler: join(assets, 'kube-scheduler'),
      kubectl: join(assets, 'kubectl'),
      kwok: join(assets, 'kwok'),
      kwokStagesDir: join(assets, 'stages'),
    };
  }
  const cache = opts.cacheDirectory ?? defaultCacheDirectory();
  const v = readVersions();
  const at = (name: string, version: string) => join(cache, `${name}-${version}`, name);
  return {
    etcd: at('etcd', v.etcd),
    kubeApiserver: at('kube-apiserver', v.kubernetes),
    kubeControllerManager: at('kube-controller-manager', v.kubernetes),
    kubeScheduler: at('kube-scheduler', v.kubernetes),
    kubectl: at('kubectl', v.kubernetes),
    kwok: at('kwok', v.kwok),
    kwokStagesDir: join(cache, `kwok-${v.kwok}`, 'stages'),
  };
}

/** Throws a `BinaryNotFoundError` with a one-line hint unless `path` is an executable file. */
export function requireExecutable(name: string, path: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new BinaryNotFoundError(name, `${name} not found at ${path}; ${HINT}`);
  }
  return path;
}

/** Like `requireExecutable`, for a directory. */
export function requireDirectory(name: string, path: string): string {
  if (!existsSync(path)) throw new BinaryNotFoundError(name, `${name} not found at ${path}; ${HINT}`);
  return path;
}

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package's version, from the package.json above this file: the repository's when run from
 * a checkout (cmd/ or dist/cmd/), the installed package's when installed.
 */
export function packageVersion(from = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'steward' && pkg.version) return pkg.version;
    } catch {
      // Not here; look one directory up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

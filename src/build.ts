import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where this process runs from. The same code runs from src/ (type stripping) and from the
 * bundled build in dist/server/ (ADR 0025), at different depths below the project: paths are
 * found from the project's root, not by a fixed `../..` from a file.
 */
export const BUILD: 'sources' | 'bundle' = import.meta.url.endsWith('.ts') ? 'sources' : 'bundle';

const { root, version } = findPackage(dirname(fileURLToPath(import.meta.url)));

/** The directory of Outband's package.json. */
export const PROJECT_ROOT = root;
export const VERSION = version;

/** Walks up to the package.json named outband. */
function findPackage(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string };
      if (name === 'outband') return { root: dir, version };
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of outband above ${from}`);
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of Outband's package.json. Found by walking up from this module rather than by a
 * fixed `../..`: the same code runs from src/ (type stripping) and from the bundled build in
 * dist/server/ (ADR 0025), at different depths.
 */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'outband') return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of outband above ${from}`);
  }
}

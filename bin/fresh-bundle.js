// Whether the bundled build in dist/server (ADR 0025, scripts/build-server.ts) may run: only
// while every file it was built from is as it was then (size and modification time, as make
// judges), so an edited source or a changed node_modules falls back to running src/ itself.
// Plain JavaScript: bin/outband.js reads it before it knows it runs on Node 24.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const MANIFEST = 'manifest.json';

/** Where the bundle is built, below the project's root. */
export const BUNDLE_DIR = join('dist', 'server');

/** The files a bundle depends on besides its sources: npm rewrites the hidden lockfile on every change to node_modules. */
export function watchedFiles(sources) {
  return [...sources, 'package.json', 'package-lock.json', 'node_modules/.package-lock.json'];
}

/** The bundle's entry if it is there and fresh, else null. */
export function freshBundle(root, dir = join(root, BUNDLE_DIR)) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
  for (const [file, size, mtimeMs] of manifest.files) {
    // size -1: the file was not there at the build, and must still not be.
    const stat = statSync(join(root, file), { throwIfNoEntry: false });
    if (stat === undefined ? size !== -1 : stat.size !== size || stat.mtimeMs !== mtimeMs) return null;
  }
  return join(dir, 'outband.js');
}

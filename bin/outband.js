#!/usr/bin/env node
// The `outband` command. It runs the TypeScript sources directly with Node's type
// stripping, which needs Node 24: on an older system Node it re-runs itself on the
// Node 24 that the project pins as a devDependency (node_modules/node).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  // Compiled code, and the TypeScript stripped of its types, is kept on disk between runs
  // (in $NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache): a start then skips most of
  // the work on its ~2,000 modules (bench/startup.ts). A cache that cannot be written costs
  // only that time.
  module.enableCompileCache?.();
  // The bundled build (ADR 0025: a few modules to load instead of about 1,800) while it matches
  // the sources; OUTBAND_BUNDLE=0 runs the sources anyway.
  const bundle = process.env.OUTBAND_BUNDLE === '0' ? null : freshBundle(root);
  await import(bundle ?? join(root, 'src', 'cli', 'main.ts'));
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`outband needs Node 24 (this is Node ${process.versions.node}); run "npm ci" first to install the pinned one.`);
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}

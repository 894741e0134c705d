/**
 * The bundled build of the server (ADR 0025): src/cli/main.ts and everything it imports, npm
 * packages included, in a few files under dist/server/, so that a start loads a handful of
 * modules instead of about 1,800. bin/outband.js runs it only while it matches the sources
 * (bin/fresh-bundle.js reads the manifest written here); otherwise it runs src/ as before.
 *
 *   node scripts/build-server.ts [OUT_DIR] [--force]   (default dist/server; a fresh one is kept unless --force)
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { build } from 'rolldown';
import { BUNDLE_DIR, freshBundle, MANIFEST, watchedFiles } from '../bin/fresh-bundle.js';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Left to Node's own resolution: @fastify/swagger-ui and @fastify/swagger read files beside
 * their own modules (`__dirname`: the page's assets, their package.json), which a bundle would
 * move; pg-native is pg's optional native driver, not installed.
 */
const EXTERNAL = ['@fastify/swagger-ui', '@fastify/swagger', 'pg-native'];

export async function buildServer(outDir = join(ROOT, BUNDLE_DIR)): Promise<{ files: number; modules: number }> {
  rmSync(outDir, { recursive: true, force: true });
  const output = await build({
    input: { outband: join(ROOT, 'src/cli/main.ts'), 'sqlite-checkpoint-worker': join(ROOT, 'src/store/dialects/sqlite-checkpoint-worker.ts') },
    platform: 'node',
    external: EXTERNAL,
    logLevel: 'warn',
    // Flat: a chunk's import.meta.url must sit beside the worker it starts (sqlite-checkpoints.ts).
    output: { dir: outDir, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: true },
  });
  const modules = new Set<string>();
  for (const chunk of output.output) if (chunk.type === 'chunk') for (const id of chunk.moduleIds) if (isAbsolute(id)) modules.add(id);
  // Every source file of ours that went in, and npm's record of node_modules for all the rest.
  const sources = [...modules].filter((id) => !id.includes('/node_modules/') && id.startsWith(ROOT + '/')).map((id) => relative(ROOT, id));
  // A file that is not there (npm's hidden lockfile, after another installer) is recorded as
  // absent (size -1): its coming makes the bundle stale as a change would.
  const files = watchedFiles(sources).map((file) => {
    const stat = statSync(join(ROOT, file), { throwIfNoEntry: false });
    return stat === undefined ? ([file, -1, 0] as const) : ([file, stat.size, stat.mtimeMs] as const);
  });
  writeFileSync(join(outDir, MANIFEST), JSON.stringify({ built_at: new Date().toISOString(), files }) + '\n');
  return { files: output.output.length, modules: modules.size };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const outDir = args.find((a) => !a.startsWith('--'));
  const dir = outDir === undefined ? join(ROOT, BUNDLE_DIR) : resolve(outDir);
  // A fresh bundle is left as it is: a second `npm start` beside a running server must not
  // replace the files that server may still load lazily (its drivers' chunks, the worker).
  if (!force && freshBundle(ROOT, dir) !== null) {
    process.stdout.write(`${relative(ROOT, dir)}: up to date\n`);
  } else {
    const started = performance.now();
    const { files, modules } = await buildServer(dir);
    process.stdout.write(`${relative(ROOT, dir)}: ${modules} modules in ${files} files, ${Math.round(performance.now() - started)} ms\n`);
  }
}

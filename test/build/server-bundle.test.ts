import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { BUNDLE_DIR, MANIFEST, freshBundle } from '../../bin/fresh-bundle.js';
import { buildServer } from '../../scripts/build-server.ts';
import { ROOT, startServerProcess, type ServerProcess } from '../helpers/process.ts';

// ADR 0025: the bundled build runs as the sources do, and only while it matches them. The bundle
// checked is dist/server, the one `npm test` builds first and every test that starts
// `outband serve` as a process runs; it is built here only when this file runs on its own after
// an edit (building beside the other tests would take their CPU: rolldown uses every core).
describe('the bundled server build', () => {
  const out = join(ROOT, BUNDLE_DIR);
  const work = mkdtempSync(join(tmpdir(), 'outband-bundle-'));
  let server: ServerProcess | undefined;

  before(async () => {
    if (freshBundle(ROOT) === null) await buildServer();
  });
  after(async () => {
    await server?.stop('SIGINT');
    rmSync(work, { recursive: true, force: true });
  });

  it('records what it was built from and is fresh while that is unchanged', () => {
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as { files: Array<[string, number, number]> };
    const files = manifest.files.map(([file]) => file);
    for (const file of ['src/cli/main.ts', 'src/runtime.ts', 'src/store/dialects/sqlite-checkpoint-worker.ts', 'package-lock.json', 'node_modules/.package-lock.json']) {
      assert.ok(files.includes(file), `${file} in the manifest`);
    }
    assert.ok(!files.some((file) => file.includes('node_modules/') && file !== 'node_modules/.package-lock.json'), 'packages are judged by npm’s lockfile, not file by file');
    assert.equal(freshBundle(ROOT, out), join(out, 'outband.js'));
  });

  it('is stale when a file it was built from changed, went or came, or it has no manifest', () => {
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as { files: Array<[string, number, number]> };
    const variant = (name: string, files: Array<[string, number, number]>) => {
      const dir = join(work, name);
      mkdirSync(dir);
      writeFileSync(join(dir, MANIFEST), JSON.stringify({ files }));
      return dir;
    };
    const [first, ...rest] = manifest.files;
    assert.equal(freshBundle(ROOT, variant('edited', [[first![0], first![1], first![2] + 1], ...rest])), null);
    assert.equal(freshBundle(ROOT, variant('resized', [[first![0], first![1] + 1, first![2]], ...rest])), null);
    assert.equal(freshBundle(ROOT, variant('gone', [...manifest.files, ['src/no-such-file.ts', 1, 1]])), null);
    // Recorded as absent at the build: fresh while it stays absent, stale once it is there.
    assert.equal(freshBundle(ROOT, variant('absent', [...manifest.files, ['src/no-such-file.ts', -1, 0]])), join(work, 'absent', 'outband.js'));
    assert.equal(freshBundle(ROOT, variant('appeared', [...manifest.files, ['package.json', -1, 0]])), null);
    assert.equal(freshBundle(ROOT, work), null);
  });

  it('serves the API, its docs and the web pages from the project', async () => {
    server = await startServerProcess({ DATABASE_URL: `sqlite:${join(work, 'outband.db')}` }, 30_000, join(out, 'outband.js'));
    assert.match(server.output(), /Build: +bundled/);
    assert.equal((await fetch(`${server.baseUrl}/readyz`)).status, 200);
    const openapi = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as { info: { version: string } };
    assert.equal(openapi.info.version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    assert.equal((await fetch(`${server.baseUrl}/docs/static/logo.svg`)).status, 200, 'swagger-ui finds its own files');
    if (existsSync(join(ROOT, 'web', 'dist'))) {
      const page = await fetch(`${server.baseUrl}/console/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    }
  });

  it('is what outband runs while fresh, and OUTBAND_BUNDLE=0 runs the sources', async () => {
    const bundled = await startServerProcess({ DATABASE_URL: `sqlite:${join(work, 'bundled.db')}` }, 30_000);
    await bundled.stop('SIGINT');
    assert.match(bundled.output(), /Build: +bundled \(dist\/server\)/);
    const sources = await startServerProcess({ DATABASE_URL: `sqlite:${join(work, 'sources.db')}`, OUTBAND_BUNDLE: '0' }, 30_000);
    await sources.stop('SIGINT');
    assert.match(sources.output(), /Build: +sources \(src\)/);
  });

  it('starts its checkpoint worker from the build', async () => {
    const path = join(work, 'worker.db');
    const db = new DatabaseSync(path);
    db.exec('pragma journal_mode = wal; create table t (x)');
    db.close();
    const worker = new Worker(pathToFileURL(join(out, 'sqlite-checkpoint-worker.js')), {
      workerData: { path, intervalMs: 50, idleIntervalMs: 250, busyFrames: 1000, catchUpFrames: 2000 },
    });
    const first = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(first, 'ready');
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('stop');
    await exited;
  });
});

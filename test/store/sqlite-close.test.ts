import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'outband-sqlite-close-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a database whose checkpoint worker runs closes to its end in a process with nothing else to do', async () => {
  // A process of its own: the bug this guards against was the process ending (exit code 13, an
  // unsettled top-level await) before the close returned, which a test runner's own timers hide.
  const database = pathToFileURL(join(import.meta.dirname, '../../src/store/database.ts')).href;
  const script = join(dir, 'close.ts');
  writeFileSync(
    script,
    `import { sql } from ${JSON.stringify(import.meta.resolve('kysely'))};
import { openDatabase } from ${JSON.stringify(database)};
const database = openDatabase(${JSON.stringify(`sqlite:${join(dir, 'close.db')}`)});
await sql\`create table t (id integer primary key, body blob not null)\`.execute(database.db);
// About 5 MiB of WAL: past the size at which the checkpoint worker starts (sqlite-checkpoints.ts).
for (let i = 0; i < 320; i++) await sql\`insert into t (body) values (randomblob(16384))\`.execute(database.db);
await new Promise((resolve) => setTimeout(resolve, 600));
await database.close();
console.log('closed');
`,
  );
  const { stdout } = await run(process.execPath, [script], { cwd: join(import.meta.dirname, '../..'), timeout: 30_000 });
  assert.equal(stdout.trim(), 'closed');
});

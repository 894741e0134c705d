// The console and the web authenticator are served by the server itself, from web/dist.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.ts';

test('the console and the authenticator are served at /console/ and /authenticator/ (any path below answers the page), their assets cached for good', async (t) => {
  const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false' } });
  t.after(() => server.close());
  const app = server.runtime.app;
  for (const name of ['console', 'authenticator']) {
    assert.equal((await app.inject({ method: 'GET', url: `/${name}` })).headers.location, `/${name}/`);
    for (const url of [`/${name}/`, `/${name}/some/deep/path`]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(res.body)?.[1];
      assert.ok(script, `${url} loads its script`);
      const asset = await app.inject({ method: 'GET', url: script });
      assert.equal(asset.statusCode, 200);
      assert.match(String(asset.headers['cache-control']), /immutable/);
    }
  }
  assert.equal((await app.inject({ method: 'GET', url: '/assets/nope.js' })).statusCode, 404);
});

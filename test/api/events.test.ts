// The event log (issue [4], ADR 0011): a per-application, gap-free sequence in commit order,
// paged with a cursor that never skips or repeats an event, and its SSE form, resumable with
// Last-Event-ID.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSseParser, type SseEvent } from '../../src/authenticator/sse.ts';
import { dialects } from '../helpers/databases.ts';
import type { EventItem as Item } from '../../src/domain/event-log.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer, listenOnLoopback } from '../helpers/server.ts';

async function page(tenant: Tenant, query: string): Promise<{ items: Item[]; next_cursor: string; has_more: boolean }> {
  const res = await tenant.request('GET', `/v1/events${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

/** Every event of the tenant, through the API, page by page. */
async function all(tenant: Tenant, types = ''): Promise<Item[]> {
  const items: Item[] = [];
  let cursor = '0';
  for (;;) {
    const p = await page(tenant, `?after=${cursor}&limit=7${types ? `&types=${types}` : ''}`);
    items.push(...p.items);
    cursor = p.next_cursor;
    if (!p.has_more) return items;
  }
}

async function newUser(tenant: Tenant, name: string): Promise<string> {
  const res = await tenant.request('POST', '/v1/users', { external_id: name, email: `${name}@example.com` });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function startEmail(tenant: Tenant, to: string): Promise<string> {
  const res = await tenant.request('POST', '/v1/verifications', { channel: 'email', to });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

/** An SSE connection to /v1/events/stream over real HTTP, with the events it received. */
function openStream(base: string, tenant: Tenant, options: { lastEventId?: string; query?: string } = {}) {
  const received: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  const abort = new AbortController();
  let ended = false;
  const parser = createSseParser({
    onEvent: (e) => {
      received.push(e);
      for (const w of waiters.splice(0)) w();
    },
  });
  const headers: Record<string, string> = { authorization: `Bearer ${tenant.token}` };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const done = (async () => {
    const res = await fetch(`${base}/v1/events/stream${options.query ?? ''}`, { headers, signal: abort.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) parser.push(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
    ended = true;
    for (const w of waiters.splice(0)) w();
  })();
  return {
    received,
    done,
    get ended() {
      return ended;
    },
    close: () => abort.abort(),
    /** Waits until `n` events arrived (or the stream ended). */
    async until(n: number, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (received.length < n && !ended) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} of ${n} events in ${ms} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

for (const dialect of dialects()) {
  describe(`${dialect}: the event log`, () => {
    let server: TestServer;
    let base: string;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
      base = await listenOnLoopback(server);
    });
    after(() => server.close());

    test('numbers are per application, from 1, without gaps; items carry subject, user, actor and UTC time', async () => {
      const a = await server.tenant();
      const b = await server.tenant();
      const alice = await newUser(a, 'alice');
      await newUser(b, 'bob');
      const v = (await a.request('POST', '/v1/verifications', { channel: 'email', user_id: alice })).json().id as string;
      const items = await all(a);
      assert.deepEqual(items.map((i) => i.seq), [1, 2]);
      assert.deepEqual(items.map((i) => i.type), ['user.created', 'verification.started']);
      const [created, started] = items as [Item, Item];
      assert.deepEqual(created.subject, { type: 'user', id: alice });
      assert.equal(created.user_id, alice);
      assert.equal(created.actor, `client:${a.clientId}`);
      assert.match(created.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.deepEqual(started.subject, { type: 'verification', id: v });
      assert.equal(started.user_id, alice, 'a verification event names its user');
      assert.equal(started.data['channel'], 'email');
      // Another application's log starts at 1 too and holds only its own events.
      const other = await all(b);
      assert.deepEqual(other.map((i) => [i.seq, i.type]), [[1, 'user.created']]);
    });

    test('paging: next_cursor continues exactly; an empty page keeps the cursor; types take names and prefixes', async () => {
      const t = await server.tenant();
      const users = [];
      for (let i = 0; i < 5; i++) users.push(await newUser(t, `u${i}`));
      for (let i = 0; i < 4; i++) await startEmail(t, `x${i}@example.com`);
      const first = await page(t, '?limit=4');
      assert.deepEqual(first.items.map((i) => i.seq), [1, 2, 3, 4]);
      assert.equal(first.next_cursor, '4');
      assert.equal(first.has_more, true);
      const second = await page(t, `?after=${first.next_cursor}&limit=100`);
      assert.deepEqual(second.items.map((i) => i.seq), [5, 6, 7, 8, 9]);
      assert.equal(second.has_more, false);
      const empty = await page(t, `?after=${second.next_cursor}`);
      assert.deepEqual(empty, { items: [], next_cursor: '9', has_more: false });

      assert.deepEqual((await all(t, 'verification.*')).map((i) => i.type), Array(4).fill('verification.started'));
      assert.deepEqual((await all(t, 'user.created')).map((i) => i.seq), [1, 2, 3, 4, 5]);
      assert.equal((await all(t, 'user.created,verification.*')).length, 9);
      assert.deepEqual(await all(t, 'verification.approved'), []);
      // A prefix is a prefix of names, not a pattern: "_" matches only itself.
      assert.deepEqual(await all(t, 'user_created.*'), []);
      for (const bad of ['?types=verification.%25', '?types=*', '?after=-1', '?after=abc', '?limit=0', '?limit=1001']) {
        assertProblem(await t.request('GET', `/v1/events${bad}`), 400, 'invalid_request', bad);
      }
    });

    test('the events:read scope is required; a refused call is itself in the log (SEC-45)', async () => {
      const t = await server.tenant({ scopes: ['users:read', 'admin'] });
      const res = await t.request('GET', '/v1/events');
      assertProblem(res, 403, 'insufficient_scope');
      const reader = await server.runtime.applications.createClient(t.name, ['events:read'], 'reader');
      const token = (await server.runtime.tokens.issue(reader.client_id, reader.client_secret, undefined)).access_token;
      let denied: Item | undefined;
      for (let i = 0; i < 100 && denied === undefined; i++) {
        const items = (await server.runtime.app.inject({ method: 'GET', url: '/v1/events?types=authorization.*', headers: { authorization: `Bearer ${token}` } })).json().items as Item[];
        denied = items[0];
        if (denied === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(denied !== undefined, 'the refusal was not recorded');
      assert.equal(denied.type, 'authorization.denied');
      assert.equal(denied.actor, `client:${t.clientId}`);
      assert.deepEqual(denied.subject, { type: 'client', id: t.clientId });
      assert.deepEqual({ ...denied.data, ip: undefined }, { route: '/v1/events', method: 'GET', required_scope: 'events:read', ip: undefined });
      assert.ok(!JSON.stringify(denied).includes(t.token), 'the token is in the event');
    });

    test('paging under 50 concurrent commits never skips or repeats an event, and the numbers have no gaps', async () => {
      const t = await server.tenant();
      const seen: Item[] = [];
      let cursor = '0';
      let writing = true;
      const pager = (async () => {
        for (;;) {
          const stillWriting = writing;
          const p = await page(t, `?after=${cursor}&limit=5`);
          seen.push(...p.items);
          cursor = p.next_cursor;
          if (!stillWriting && !p.has_more) return;
          // Injected requests never leave the microtask queue; a real client's come from sockets.
          // Yield, so that the SQLite group commit (scheduled with setImmediate) gets its turn.
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? startEmail(t, `c${i}@example.com`) : newUser(t, `c${i}`))));
      writing = false;
      await pager;
      assert.equal(ids.length, 50);
      assert.deepEqual(
        seen.map((i) => i.seq),
        Array.from({ length: 50 }, (_, i) => i + 1),
        'a pager that read while commits landed saw every number once, in order',
      );
      assert.deepEqual(new Set(seen.map((i) => i.subject.id)), new Set(ids));
    });

    test('SSE: events after Last-Event-ID, then live ones; a reconnect misses and repeats nothing', async () => {
      const t = await server.tenant();
      for (let i = 0; i < 3; i++) await newUser(t, `s${i}`);
      const first = openStream(base, t, { query: '?after=1' });
      await first.until(2);
      assert.deepEqual(first.received.map((e) => e.lastEventId), ['2', '3']);
      assert.equal(first.received[0]!.type, 'message');
      const item = JSON.parse(first.received[0]!.data) as Item;
      assert.equal(item.seq, 2);
      assert.equal(item.type, 'user.created');
      // Live: an event committed now arrives without polling.
      await startEmail(t, 'live@example.com');
      await first.until(3);
      assert.equal(JSON.parse(first.received[2]!.data).type, 'verification.started');
      first.close();
      await first.done;

      // While nobody listens, more happens; a reconnect with Last-Event-ID gets exactly that.
      for (let i = 3; i < 6; i++) await newUser(t, `s${i}`);
      const resumed = openStream(base, t, { lastEventId: first.received.at(-1)!.lastEventId, query: '?after=0' });
      await resumed.until(3);
      await startEmail(t, 'later@example.com');
      await resumed.until(4);
      assert.deepEqual(resumed.received.map((e) => Number(e.lastEventId)), [5, 6, 7, 8]);
      // A filtered stream sends only its types, with their own numbers as ids.
      const filtered = openStream(base, t, { query: '?types=verification.*' });
      await filtered.until(2);
      assert.deepEqual(filtered.received.map((e) => e.lastEventId), ['4', '8']);
      filtered.close();
      await filtered.done;
      resumed.close();
      await resumed.done;

      // Bad input is refused before the stream opens.
      assertProblem(await t.request('GET', '/v1/events/stream', undefined, { 'last-event-id': 'x' }), 400, 'invalid_request');
      for (const query of ['?after=x', '?types=*', '?types=a..b', '?junk=1', '?after=%00']) {
        assertProblem(await t.request('GET', `/v1/events/stream${query}`), 400, 'invalid_request', query);
      }
    });

    if (dialect === 'postgres') {
      test('a stream on one node hears events committed on another (LISTEN/NOTIFY wakes by application)', async () => {
        const second = await startTestServer({ dialect, database: server.database, env: { OUTBAND_WORKERS: 'false' } });
        try {
          const t = await server.tenant();
          const stream = openStream(base, t);
          await new Promise((r) => setTimeout(r, 100));
          // The same client's token works on the other node: it signs with the same keys.
          const res = await second.runtime.app.inject({ method: 'POST', url: '/v1/users', headers: { authorization: `Bearer ${t.token}` }, payload: { external_id: 'elsewhere' } });
          assert.equal(res.statusCode, 201, res.body);
          await stream.until(1, 5000);
          assert.equal(JSON.parse(stream.received[0]!.data).data.user_id, res.json().id);
          stream.close();
          await stream.done;
        } finally {
          await second.close();
        }
      });
    }

    test('another tenant\'s stream hears nothing of this one\'s events', async () => {
      const a = await server.tenant();
      const b = await server.tenant();
      const stream = openStream(base, b);
      await newUser(a, 'only-a');
      await newUser(b, 'only-b');
      await stream.until(1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(stream.received.map((e) => JSON.parse(e.data).data.user_id), [(await all(b))[0]!.user_id]);
      stream.close();
      await stream.done;
    });
  });

  describe(`${dialect}: the event stream at shutdown`, () => {
    test('an open stream ends when the server closes', async () => {
      const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
      await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
      const address = server.runtime.app.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
      const t = await server.tenant();
      await newUser(t, 'x');
      const stream = openStream(base, t);
      await stream.until(1);
      await server.close();
      await stream.done;
      assert.equal(stream.ended, true);
    });
  });
}

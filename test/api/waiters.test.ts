// Many relying-party waiters on one verification (long-polls and SSE streams) share one read of
// it when a change wakes them. The promise: every one of them hears the change, also when the
// change commits while other waiters are still opening (a read under way when a change is
// published is not shared with the waiters it wakes, so none is handed the state from before it
// and left waiting; that window is narrow, so this checks the promise, rounds with the check a
// little later each time, rather than forcing the race).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { codeFromOutbox, startTestServer, type TestServer, listenOnLoopback } from '../helpers/server.ts';

/** An SSE stream of a verification over real HTTP: answers the statuses it received once it ends. */
async function follow(base: string, token: string, id: string, opened: () => void): Promise<string[]> {
  const res = await fetch(`${base}/v1/verifications/${id}/stream`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  opened();
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { status: string }).status);
}

for (const dialect of dialects()) {
  describe(`${dialect}: many waiters on one verification`, () => {
    let server: TestServer;
    let base: string;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
      base = await listenOnLoopback(server);
    });
    after(() => server.close());

    test('300 long-polls and 50 streams, some still opening when the code is checked, all hear the approval', async () => {
      const tenant = await server.tenant();
      for (let round = 0; round < 4; round++) {
        const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: `+3161234567${round}` });
        assert.equal(started.statusCode, 201, started.body);
        const id = started.json().id as string;
        const code = await codeFromOutbox(tenant, id, server.runtime.worker);

        let streamsOpen = 0;
        const streams = Array.from({ length: 50 }, () => follow(base, tenant.token, id, () => streamsOpen++));
        const early = Array.from({ length: 200 }, () => tenant.request('GET', `/v1/verifications/${id}?wait=20`));
        while (streamsOpen < 50) await new Promise((r) => setTimeout(r, 10));
        // 1. More long-polls start, and the check commits while their first reads are under way.
        const late = Array.from({ length: 100 }, () => tenant.request('GET', `/v1/verifications/${id}?wait=20`));
        for (let i = 0; i < round; i++) await new Promise((r) => setImmediate(r));
        const checked = await tenant.request('POST', `/v1/verifications/${id}/check`, { code });
        assert.equal(checked.json().status, 'approved');

        // 2. Every long-poll answers approved (none waits out its 20 s with a stale pending).
        const answers = await Promise.all([...early, ...late]);
        assert.deepEqual(new Set(answers.map((a) => `${a.statusCode} ${a.json().status}`)), new Set(['200 approved']), `round ${round}`);
        // Woken together, they share one serialisation: the same body, still typed as JSON.
        assert.deepEqual(new Set(answers.map((a) => `${a.headers['content-type']} ${a.body === answers[0]!.body}`)), new Set(['application/json; charset=utf-8 true']));
        // 3. Every stream sent pending, then approved, and ended.
        for (const statuses of await Promise.all(streams)) assert.deepEqual(statuses, ['pending', 'approved'], `round ${round}`);
      }
    });
  });
}

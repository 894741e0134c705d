// Threat: predictable or biased codes make guessing cheaper than the attempt limit assumes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer, unlimited } from '../helpers/server.ts';

test('SEC-01 10,000 SMS verifications: every code has ≥6 digits, digits are uniform per position, collisions as chance predicts', async (t) => {
  const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false', LOG_LEVEL: 'warn' } });
  t.after(() => server.close());
  // Ten thousand codes to one number: far past every usage limit and fraud window, on purpose.
  const tenant = await server.tenant({ plan: 'licensed', settings: unlimited() });
  const principal = await server.runtime.tokens.verify(tenant.token);

  const codes: string[] = [];
  const ids: string[] = [];
  for (let batch = 0; batch < 100; batch++) {
    const started = await Promise.all(
      Array.from({ length: 100 }, () => server.runtime.verifications.start(principal, { channel: 'sms', to: '+31612345678', return_code: true })),
    );
    for (const s of started) {
      codes.push(s.code as string);
      ids.push(s.view.id);
    }
  }
  assert.equal(codes.length, 10_000);
  assert.ok(codes.every((c) => /^\d{6}$/.test(c)), 'default codes are 6 decimal digits');

  // Chi-square per position, 9 degrees of freedom; 33.72 is the 0.9999 quantile, so over six
  // positions a fair generator fails about once in 1,700 runs.
  for (let position = 0; position < 6; position++) {
    const counts = new Array<number>(10).fill(0);
    for (const c of codes) counts[Number(c[position])]!++;
    const expected = codes.length / 10;
    const chi = counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    assert.ok(chi < 33.72, `position ${position}: chi-square ${chi.toFixed(2)} over ${counts.join(',')}`);
  }
  // Birthday bound: 10,000 draws from 10^6 give ≈ 50 colliding pairs.
  const collisions = codes.length - new Set(codes).size;
  assert.ok(collisions < 100, `${collisions} repeated codes`);
  t.diagnostic(`${collisions} repeated codes among 10,000 (chance predicts ≈ 50)`);

  // The code in the message is the one that was generated, and a tenant may not lower the length.
  await server.runtime.worker.runOnce();
  const outbox = (await tenant.request('GET', `/v1/outbox?verification_id=${ids[0]}`)).json() as { items: Array<{ body: string }> };
  assert.ok(outbox.items[0]?.body.includes(codes[0]!));
  const short = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', code_length: 3 });
  assert.equal(short.statusCode, 400);
});

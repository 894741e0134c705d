import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dummyHash, hashSecret, verifySecret } from './secret-hash.ts';

test('a hash verifies its own secret only; the parameters travel with it', async () => {
  const stored = await hashSecret('correct horse battery staple');
  assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifySecret('correct horse battery staple', stored), true);
  assert.equal(await verifySecret('correct horse battery stapler', stored), false);
  assert.notEqual(await hashSecret('correct horse battery staple'), stored, 'a fresh salt each time');
});

test('the dummy hash has the real parameters (the same scrypt work) and no secret matches it', async () => {
  const real = (await hashSecret('x')).split('$');
  const dummy = dummyHash().split('$');
  assert.deepEqual(dummy.slice(0, 4), real.slice(0, 4));
  assert.equal(Buffer.from(dummy[4]!, 'base64url').length, 16);
  assert.equal(Buffer.from(dummy[5]!, 'base64url').length, 32);
  assert.equal(dummyHash(), dummyHash().slice(0), 'made once per process');
  for (const secret of ['', 'x', 'not the password!']) assert.equal(await verifySecret(secret, dummyHash()), false);
});

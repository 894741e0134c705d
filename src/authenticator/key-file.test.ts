// Threat: the key file holds the device's private keys; anyone who reads it can answer
// verifications as the user. It must be created 0600 in a 0700 directory, never be half written,
// and an exposed one must be refused rather than used.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { generateDeviceKey } from './device-key.ts';
import { AuthenticatorError } from './errors.ts';
import { keyFilePath, readKeyFile, saveAuthenticator, writeKeyFile, type StoredAuthenticator } from './key-file.ts';

function entry(deviceId: string): StoredAuthenticator {
  const { privateJwk, publicJwk } = generateDeviceKey();
  return {
    device_id: deviceId,
    api: 'https://outband.example',
    audience: 'https://outband.example/v1/device-api',
    name: 'Test CLI',
    private_jwk: privateJwk,
    public_jwk: publicJwk,
    enrolled_at: '2026-12-01T10:00:00.000Z',
  };
}

describe('keyFilePath', () => {
  test('case=order: --file, then $OUTBAND_AUTHENTICATOR_FILE, then ~/.config/outband/authenticator.json', () => {
    assert.equal(keyFilePath({ file: '/a/k.json', env: { OUTBAND_AUTHENTICATOR_FILE: '/b/k.json' }, home: '/h' }), '/a/k.json');
    assert.equal(keyFilePath({ env: { OUTBAND_AUTHENTICATOR_FILE: '/b/k.json' }, home: '/h' }), '/b/k.json');
    assert.equal(keyFilePath({ env: {}, home: '/h' }), '/h/.config/outband/authenticator.json');
    assert.equal(keyFilePath({ file: '', env: { OUTBAND_AUTHENTICATOR_FILE: '' }, home: '/h' }), '/h/.config/outband/authenticator.json');
  });
});

describe('key file', { skip: process.platform === 'win32' ? 'Unix modes' : false }, () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outband-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('case=missing: reads as an empty file', async () => {
    assert.deepEqual(await readKeyFile(join(dir, 'none.json')), { version: 1, authenticators: [] });
  });

  test('case=write: file 0600 in a new 0700 directory, no temp file left, round trip equal', async () => {
    const previous = process.umask(0o000); // even a permissive umask must not widen the modes
    try {
      const path = join(dir, 'nested', 'outband', 'authenticator.json');
      const file = { version: 1 as const, authenticators: [entry('dev_a'), entry('dev_b')] };
      await writeKeyFile(path, file);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'nested', 'outband'))).mode & 0o777, 0o700);
      assert.deepEqual(await readdir(join(dir, 'nested', 'outband')), ['authenticator.json']);
      assert.deepEqual(await readKeyFile(path), file);
    } finally {
      process.umask(previous);
    }
  });

  test('case=rewrite over a 0644 file: the result is 0600 again', async () => {
    const path = join(dir, 'k.json');
    await writeFile(path, '{}', { mode: 0o644 });
    await chmod(path, 0o644);
    await writeKeyFile(path, { version: 1, authenticators: [entry('dev_a')] });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  test('case=save: adds, and replaces the same device id', async () => {
    const path = join(dir, 'k.json');
    await saveAuthenticator(path, entry('dev_a'));
    await saveAuthenticator(path, entry('dev_b'));
    const replacement = { ...entry('dev_a'), name: 'Renamed' };
    await saveAuthenticator(path, replacement);
    const file = await readKeyFile(path);
    assert.deepEqual(
      file.authenticators.map((a) => [a.device_id, a.name]),
      [
        ['dev_b', 'Test CLI'],
        ['dev_a', 'Renamed'],
      ],
    );
  });

  test('case=readable by others: refused with the chmod to run', async () => {
    const path = join(dir, 'k.json');
    await writeKeyFile(path, { version: 1, authenticators: [entry('dev_a')] });
    await chmod(path, 0o640);
    await assert.rejects(readKeyFile(path), (error: unknown) => error instanceof AuthenticatorError && /readable by others.*chmod 600/.test(error.message));
  });

  test('case=damaged: not JSON, wrong version, a public key with d, a missing field are refused', async () => {
    const path = join(dir, 'k.json');
    const bad = [
      'not json',
      JSON.stringify({ version: 2, authenticators: [] }),
      JSON.stringify({ version: 1, authenticators: [{ ...entry('dev_a'), public_jwk: entry('dev_a').private_jwk }] }),
      JSON.stringify({ version: 1, authenticators: [{ ...entry('dev_a'), audience: undefined }] }),
    ];
    for (const text of bad) {
      await writeFile(path, text, { mode: 0o600 });
      await assert.rejects(readKeyFile(path), AuthenticatorError, text.slice(0, 40));
    }
  });
});

/**
 * The key file: the enrolled authenticators of this machine with their private keys, as JSON
 * readable by its owner only (0600, in a 0700 directory). Written to a temporary file and renamed,
 * so a crash never leaves half a file, and its mode is checked after every write.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { PrivateJwk, PublicJwk } from './device-key.ts';
import { AuthenticatorError } from './errors.ts';

export interface StoredAuthenticator {
  device_id: string;
  /** The server's base URL, from the enrolment link. */
  api: string;
  /** The `aud` of this device's JWS, as the server answered at enrolment. */
  audience: string;
  name: string;
  private_jwk: PrivateJwk;
  public_jwk: PublicJwk;
  /** ISO 8601. */
  enrolled_at: string;
}

export interface KeyFile {
  version: 1;
  authenticators: StoredAuthenticator[];
}

export const KEY_FILE_ENV = 'OUTBAND_AUTHENTICATOR_FILE';

/** `--file`, else `$OUTBAND_AUTHENTICATOR_FILE`, else `~/.config/outband/authenticator.json`. */
export function keyFilePath(options: { file?: string | undefined; env?: NodeJS.ProcessEnv; home?: string } = {}): string {
  const env = options.env ?? process.env;
  if (options.file !== undefined && options.file !== '') return resolve(options.file);
  const fromEnv = env[KEY_FILE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(options.home ?? homedir(), '.config', 'outband', 'authenticator.json');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertJwk(value: unknown, withD: boolean, where: string): void {
  if (!isRecord(value) || value['kty'] !== 'EC' || value['crv'] !== 'P-256' || typeof value['x'] !== 'string' || typeof value['y'] !== 'string') {
    throw new AuthenticatorError(`${where} is not an EC P-256 JWK`);
  }
  if (withD ? typeof value['d'] !== 'string' : 'd' in value) throw new AuthenticatorError(`${where} ${withD ? 'lacks' : 'must not carry'} the private member d`);
}

export function assertKeyFile(value: unknown, path = 'the key file'): asserts value is KeyFile {
  if (!isRecord(value) || value['version'] !== 1) throw new AuthenticatorError(`${path}: not a version 1 authenticator key file`);
  if (!Array.isArray(value['authenticators'])) throw new AuthenticatorError(`${path}: "authenticators" must be an array`);
  value['authenticators'].forEach((entry: unknown, i) => {
    const where = `${path}: authenticators[${i}]`;
    if (!isRecord(entry)) throw new AuthenticatorError(`${where} is not an object`);
    for (const key of ['device_id', 'api', 'audience', 'name', 'enrolled_at']) {
      if (typeof entry[key] !== 'string') throw new AuthenticatorError(`${where}.${key} must be a string`);
    }
    assertJwk(entry['private_jwk'], true, `${where}.private_jwk`);
    assertJwk(entry['public_jwk'], false, `${where}.public_jwk`);
  });
}

/**
 * Reads the key file; a missing file is an empty one. A file that others can read is refused,
 * as ssh refuses such a private key: the keys in it may already have leaked.
 */
export async function readKeyFile(path: string): Promise<KeyFile> {
  let text: string;
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
      throw new AuthenticatorError(`${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}): run "chmod 600 ${path}", and re-enrol if others may have read it`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, authenticators: [] };
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AuthenticatorError(`${path} is not valid JSON`, { cause: error });
  }
  assertKeyFile(value, path);
  return value;
}

/** Writes the whole key file: temp file (0600) → fsync → rename → check the mode. */
export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  assertKeyFile(file, path);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // the umask cannot widen it, but a filesystem may ignore open's mode
    await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  if (process.platform === 'win32') return;
  if (((await stat(path)).mode & 0o777) !== 0o600) {
    await chmod(path, 0o600);
    const mode = (await stat(path)).mode & 0o777;
    if (mode !== 0o600) throw new AuthenticatorError(`${path} has mode ${mode.toString(8)} and cannot be made 0600: keep the key file on a filesystem with Unix permissions`);
  }
}

/** Adds (or, for the same device id, replaces) one authenticator and writes the file. */
export async function saveAuthenticator(path: string, entry: StoredAuthenticator): Promise<void> {
  const file = await readKeyFile(path);
  const others = file.authenticators.filter((a) => a.device_id !== entry.device_id);
  await writeKeyFile(path, { version: 1, authenticators: [...others, entry] });
}

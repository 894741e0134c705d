/**
 * `outband authenticator …`: the reference headless authenticator, a pure client of the device
 * API (docs/device-api.md). It needs no server configuration and no database: only the key file.
 */
import type { ParseArgsConfig } from 'node:util';
import { enroll, createDeviceClient } from '../authenticator/client.ts';
import { AuthenticatorError, DeviceApiError } from '../authenticator/errors.ts';
import { keyFilePath, readKeyFile, saveAuthenticator, type StoredAuthenticator } from '../authenticator/key-file.ts';
import type { Device } from '../authenticator/objects.ts';
import { USER_VERIFICATIONS, type UserVerification } from '../authenticator/signing-input.ts';
import { createTerminalIo } from '../authenticator/terminal-io.ts';
import { watch, type WatchOptions } from '../authenticator/watch.ts';

type Values = Record<string, string | boolean | undefined>;

/** A command that is a client of a running server: main.ts skips loading the server config for it. */
export interface ClientCommand {
  client: true;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes. */
  positionals: number;
  /** Answers the exit code. */
  run(values: Values, positionals: string[]): Promise<number>;
}

const FILE_OPTION = { file: { type: 'string' } } as const;
const FILE_HELP = `--file defaults to $OUTBAND_AUTHENTICATOR_FILE, else ~/.config/outband/authenticator.json`;

/** A failure as one line for stderr, with the exit code: 2 for bad input here, 1 for the server's refusal or no server. */
function failure(error: unknown, api?: string): number {
  if (error instanceof AuthenticatorError) {
    process.stderr.write(`outband: ${error.message}\n`);
    return 2;
  }
  if (error instanceof DeviceApiError) {
    const hint: Record<string, string> = {
      activation_invalid: 'the enrolment link is unknown, already used or expired: ask for a new one',
      invalid_device_signature: 'the server does not accept this device (removed on the server, or this clock is off by more than a minute)',
    };
    process.stderr.write(`outband: ${hint[error.code] ?? error.detail} (${error.code}, HTTP ${error.status})\n`);
    return 1;
  }
  if (error instanceof TypeError || (error instanceof Error && error.name === 'TimeoutError')) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    process.stderr.write(`outband: cannot reach ${api ?? 'the server'}${cause}\n`);
    return 1;
  }
  throw error;
}

async function load(values: Values): Promise<{ path: string; authenticators: StoredAuthenticator[] }> {
  const path = keyFilePath({ file: values['file'] as string | undefined });
  return { path, authenticators: (await readKeyFile(path)).authenticators };
}

function describeDevice(device: Device): string {
  const transport = device.transport === null ? 'no transport' : `transport ${device.transport.type}${device.transport.stale ? ' (stale)' : ''}`;
  return `${device.status}, ${device.role}, ${transport}, last used ${device.last_used_at ?? 'never'}`;
}

export const AUTHENTICATOR_COMMANDS: Record<string, ClientCommand> = {
  'authenticator enroll': {
    client: true,
    summary: 'Enrol this machine as a push authenticator from an enrolment link',
    usage: `outband authenticator enroll <link> [--name NAME] [--file FILE] [--allow-http]\n  <link> is {api}/authenticator/enroll#token=…; quote it in the shell\n  ${FILE_HELP}\n  --allow-http permits plain http to a host other than this machine (a lab; never for real users)`,
    options: { ...FILE_OPTION, name: { type: 'string' }, 'allow-http': { type: 'boolean' } },
    positionals: 1,
    async run(values, [link]) {
      const path = keyFilePath({ file: values['file'] as string | undefined });
      try {
        await readKeyFile(path); // a damaged or exposed key file should stop us before the token is spent
        const { authenticator } = await enroll(link as string, {
          name: values['name'] as string | undefined,
          capabilities: ['push', 'pin'],
          transport: { type: 'stream' },
          allowHttp: values['allow-http'] === true,
          signal: AbortSignal.timeout(30_000),
        });
        await saveAuthenticator(path, authenticator);
        process.stdout.write(`enrolled ${authenticator.device_id} ${authenticator.name}\nsaved to ${path}\n`);
        return 0;
      } catch (error) {
        return failure(error, (link as string).split('/authenticator/enroll')[0]);
      }
    },
  },

  'authenticator list': {
    client: true,
    summary: "List this machine's authenticators, with each one's state on its server",
    usage: `outband authenticator list [--file FILE] [--json]\n  ${FILE_HELP}`,
    options: { ...FILE_OPTION, json: { type: 'boolean' } },
    positionals: 0,
    async run(values) {
      let loaded: Awaited<ReturnType<typeof load>>;
      try {
        loaded = await load(values);
      } catch (error) {
        return failure(error);
      }
      const rows = await Promise.all(
        loaded.authenticators.map(async (a) => {
          try {
            return { a, device: await createDeviceClient(a).device({ signal: AbortSignal.timeout(5000) }), error: null };
          } catch (error) {
            return { a, device: null, error };
          }
        }),
      );
      if (values['json']) {
        const out = rows.map(({ a, device, error }) => ({
          device_id: a.device_id,
          name: a.name,
          api: a.api,
          enrolled_at: a.enrolled_at,
          server: device,
          error: error === null ? null : error instanceof DeviceApiError ? error.code : error instanceof AuthenticatorError ? 'damaged_key' : 'unreachable',
        }));
        process.stdout.write(`${JSON.stringify(out)}\n`);
        return 0;
      }
      if (rows.length === 0) {
        process.stdout.write(`no authenticators in ${loaded.path}\n`);
        return 0;
      }
      for (const { a, device, error } of rows) {
        const server =
          device !== null
            ? describeDevice(device)
            : error instanceof DeviceApiError
              ? `refused: ${error.code}${error.code === 'invalid_device_signature' ? ' (removed on the server, or the clock is off)' : ''}`
              : error instanceof AuthenticatorError
                ? `not asked: ${error.message}`
                : 'unreachable';
        process.stdout.write(`${a.device_id}  ${a.name}\n  ${a.api}  enrolled ${a.enrolled_at}\n  server: ${server}\n`);
      }
      return 0;
    },
  },

  'authenticator watch': {
    client: true,
    summary: 'Wait for requests to the enrolled authenticators and answer them',
    usage:
      `outband authenticator watch [--file FILE] [--device ID] [--approve-all | --deny-all] [--uv pin|biometric|none]\n` +
      `  ${FILE_HELP}\n` +
      '  --approve-all approves at once, except requests with a number to pick or a code to type (left pending)\n' +
      '  --uv is what an approval reports as user verification (default pin); a denial reports none\n' +
      '  When stdout is not a terminal it prints one line per event (see docs/device-api.md)',
    options: { ...FILE_OPTION, device: { type: 'string' }, 'approve-all': { type: 'boolean' }, 'deny-all': { type: 'boolean' }, uv: { type: 'string' } },
    positionals: 0,
    async run(values) {
      if (values['approve-all'] && values['deny-all']) return failure(new AuthenticatorError('give --approve-all or --deny-all, not both'));
      const uv = (values['uv'] ?? 'pin') as UserVerification;
      if (!USER_VERIFICATIONS.includes(uv)) return failure(new AuthenticatorError(`--uv must be one of ${USER_VERIFICATIONS.join(', ')}`));
      let devices: WatchOptions['devices'];
      try {
        const { path, authenticators } = await load(values);
        const chosen = typeof values['device'] === 'string' ? authenticators.filter((a) => a.device_id === values['device']) : authenticators;
        if (chosen.length === 0) {
          throw new AuthenticatorError(typeof values['device'] === 'string' ? `no authenticator ${values['device']} in ${path}` : `no authenticators in ${path}: enrol one with "outband authenticator enroll <link>"`);
        }
        devices = chosen.map((a) => ({ client: createDeviceClient(a), label: { id: a.device_id, name: a.name } }));
      } catch (error) {
        return failure(error);
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const mode = values['approve-all'] ? 'approve-all' : values['deny-all'] ? 'deny-all' : 'ask';
      const io = createTerminalIo({ input: process.stdin, output: process.stdout, onInterrupt: onSignal, interactive: mode === 'ask' });
      try {
        const { ok } = await watch({
          devices,
          mode,
          userVerification: uv,
          signal: stop.signal,
          io,
        });
        return ok || stop.signal.aborted ? 0 : 1;
      } finally {
        io.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  },
};

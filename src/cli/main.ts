import { PUSH_BY_DEVICE } from '../domain/application.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino } from 'pino';
import { ConfigError, configReference, loadConfig, type ServerConfig } from '../config/config.ts';
import { ALL_SCOPES } from '../domain/scopes.ts';
import { createLogger } from '../observability/logger.ts';
import { BUILD, VERSION } from '../build.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { releaseStartupMemory } from '../startup-memory.ts';
import { SetupError } from '../services/applications.ts';
import { AGENT_COMMANDS } from './agents.ts';
import { withCommandStore } from './command-store.ts';
import { AUDIT_COMMANDS } from './audit.ts';
import { AUTHENTICATOR_COMMANDS, type ClientCommand } from './authenticator.ts';

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, config: ServerConfig): Promise<void>;
}

/** A runtime for one-off commands: no workers, warnings to stderr so stdout stays parseable. */
async function withRuntime<T>(config: ServerConfig, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await createRuntime({ ...config, workers: false }, { logger: createLogger('warn', pino.destination(2)) });
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

function printCredentials(credentials: { client_id: string; client_secret: string }, format: 'json' | 'env' | 'text'): void {
  if (format === 'json') console.log(JSON.stringify({ client_id: credentials.client_id, client_secret: credentials.client_secret }));
  else if (format === 'env') console.log(`OUTBAND_CLIENT_ID=${credentials.client_id}\nOUTBAND_CLIENT_SECRET=${credentials.client_secret}`);
  else console.log(`client_id:     ${credentials.client_id}\nclient_secret: ${credentials.client_secret}\n(the secret is shown only now)`);
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'Run the server (migrates the database first)',
    usage: 'outband serve',
    options: {},
    async run(_values, config) {
      const runtime = await createRuntime(config);
      if (config.demo && !config.production) {
        const demo = await runtime.applications.ensureDemo();
        if (demo !== null) {
          // To the terminal, once; never into the JSON log stream.
          process.stderr.write(
            `\nCreated application "demo" and a client with every scope. Its secret is shown only now:\n\n` +
              `  OUTBAND_CLIENT_ID=${demo.client_id}\n  OUTBAND_CLIENT_SECRET=${demo.client_secret}\n\n`,
          );
        }
      }
      // The console's first admin, on a server with no agent yet: its password is shown once, here.
      const admin = await runtime.agents.ensureFirstAdmin(config.consoleAdminEmail);
      if (admin !== null) {
        process.stderr.write(
          `\nCreated the console admin. Its password is shown only now (change agents with "outband agents"):\n\n` +
            `  e-mail:   ${admin.email}\n  password: ${admin.password}\n\n`,
        );
      }
      await runtime.app.ready();
      releaseStartupMemory();
      await runtime.app.listen({ port: config.port, host: config.host });
      const address = runtime.app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const base = `http://${config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host}:${port}`;
      const build = BUILD === 'bundle' ? 'bundled (dist/server)' : 'sources (src)';
      process.stderr.write(`Outband ${VERSION} listening on ${base}\n  API docs:  ${base}/docs\n  OpenAPI:   ${base}/openapi.json\n  Build:     ${build}\n\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        runtime.logger.info({ signal }, 'shutting down: draining requests and long-polls');
        runtime.close().then(
          () => process.exit(0),
          (error: unknown) => {
            runtime.logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
  },

  migrate: {
    summary: 'Apply database migrations',
    usage: 'outband migrate',
    options: {},
    async run(_values, config) {
      // The store alone: a migration can take a while on a large database (015 rebuilds the
      // events table on SQLite), so each one is told as it starts and as it ends.
      await withCommandStore(config, async () => {}, {
        applying: (m) => process.stderr.write(`applying migration ${m.version} (${m.name})\n`),
        applied: (m) => console.log(`applied migration ${m.version} (${m.name}) in ${m.ms} ms`),
      });
      console.log('database is up to date');
    },
  },

  'apps create': {
    summary: 'Create an application (tenant)',
    usage:
      'outband apps create --name NAME [--sms-provider outbox|webhook|smpp|twilio] [--email-provider outbox|smtp] [--voice-provider outbox|twilio] [--missed-call-provider outbox|twilio] [--json]\n  voice and missed calls are off unless a provider is named',
    options: {
      name: { type: 'string' },
      'sms-provider': { type: 'string' },
      'email-provider': { type: 'string' },
      'voice-provider': { type: 'string' },
      'missed-call-provider': { type: 'string' },
      json: { type: 'boolean' },
    },
    async run(values, config) {
      if (typeof values['name'] !== 'string') throw new SetupError('--name is required');
      const providers: Record<string, string> = { sms: 'outbox', email: 'outbox', push: PUSH_BY_DEVICE };
      if (typeof values['sms-provider'] === 'string') providers['sms'] = values['sms-provider'];
      if (typeof values['email-provider'] === 'string') providers['email'] = values['email-provider'];
      if (typeof values['voice-provider'] === 'string') providers['voice'] = values['voice-provider'];
      if (typeof values['missed-call-provider'] === 'string') providers['missed_call'] = values['missed-call-provider'];
      const app = await withRuntime(config, (r) => r.applications.create(values['name'] as string, { providers }));
      console.log(values['json'] ? JSON.stringify({ id: app.id, name: app.name, providers: app.settings.providers }) : `created application "${app.name}" (${app.id})`);
    },
  },

  'clients create': {
    summary: 'Create an API client of an application; prints its secret once',
    usage: `outband clients create --app NAME --scopes "SCOPE …" [--name NAME] [--json | --env]\n  scopes: ${ALL_SCOPES.join(' ')}`,
    options: { app: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' }, env: { type: 'boolean' } },
    async run(values, config) {
      if (typeof values['app'] !== 'string') throw new SetupError('--app is required');
      if (typeof values['scopes'] !== 'string') throw new SetupError(`--scopes is required, e.g. --scopes "${ALL_SCOPES.join(' ')}"`);
      const scopes = values['scopes'].split(/[\s,]+/).filter(Boolean);
      const credentials = await withRuntime(config, (r) => r.applications.createClient(values['app'] as string, scopes, (values['name'] as string | undefined) ?? 'cli'));
      printCredentials(credentials, values['json'] ? 'json' : values['env'] ? 'env' : 'text');
    },
  },

  outbox: {
    summary: 'Show messages of the development outbox provider (newest last)',
    usage: 'outband outbox [--app NAME] [--limit N] [--follow]',
    options: { app: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean' } },
    async run(values, config) {
      await withRuntime(config, async (runtime) => {
        const apps = await runtime.store.applications.list();
        const chosen = typeof values['app'] === 'string' ? apps.filter((a) => a.name === values['app']) : apps;
        if (chosen.length === 0) throw new SetupError(typeof values['app'] === 'string' ? `no application "${values['app']}"` : 'no applications yet');
        const limit = Number(values['limit'] ?? 20);
        if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new SetupError('--limit must be a whole number from 1 to 200');
        const seen = new Set<string>();
        const show = async (first: boolean) => {
          const items = (
            await Promise.all(chosen.map(async (a) => (await runtime.outbox.list(a.id, { limit: first ? limit : 200 })).map((m) => ({ ...m, app: a.name }))))
          )
            .flat()
            .filter((m) => !seen.has(m.id))
            .sort((a, b) => a.created_at.localeCompare(b.created_at));
          for (const m of items) {
            seen.add(m.id);
            console.log(`${m.created_at}  [${m.app}] ${m.channel} → ${m.to}${m.subject ? `  "${m.subject}"` : ''}\n  ${m.body.trim().replace(/\n+/g, '\n  ')}\n`);
          }
        };
        await show(true);
        if (!values['follow']) return;
        const stop = new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        for (;;) {
          const tick = new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), 500));
          if ((await Promise.race([tick, stop])) !== 'tick') return;
          await show(false);
        }
      });
    },
  },

  'keys rotate': {
    summary: 'Make a new token signing key active; tokens signed by the old one stay valid until they expire',
    usage: 'outband keys rotate',
    options: {},
    async run(_values, config) {
      const kid = await withRuntime(config, (r) => r.tokens.rotate());
      console.log(`new signing key ${kid} is active (running servers pick it up when they see a token signed by it, or on restart)`);
    },
  },

  ...AUDIT_COMMANDS,
  ...(AGENT_COMMANDS as Record<string, Command>),

  'config docs': {
    summary: 'Print the configuration reference (docs/config.md)',
    usage: 'outband config docs',
    options: {},
    async run() {
      process.stdout.write(configReference());
    },
  },
};

/** The server's commands, then the clients of a running server's device API (no config, no database). */
const ALL_COMMANDS: Record<string, Command | ClientCommand> = { ...COMMANDS, ...AUTHENTICATOR_COMMANDS };

function help(): string {
  const lines = Object.entries(ALL_COMMANDS).map(([name, c]) => `  ${name.padEnd(20)} ${c.summary}`);
  return `outband ${VERSION} — out-of-band verification server\n\nUsage: outband <command> [options]   (outband <command> --help for its options)\n\n${lines.join('\n')}\n\nConfiguration comes from environment variables: see docs/config.md.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const name = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((n) => ALL_COMMANDS[n] !== undefined);
  if (name === undefined) {
    const asked = argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help';
    (asked ? process.stdout : process.stderr).write(asked ? help() : `unknown command "${argv.join(' ')}"\n\n${help()}`);
    return asked ? 0 : 2;
  }
  const command = ALL_COMMANDS[name] as Command | ClientCommand;
  const rest = argv.slice(name.split(' ').length);
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const allowPositionals = 'client' in command && command.positionals > 0;
    ({ values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals }));
    if (!values['help'] && 'client' in command && positionals.length !== command.positionals) {
      throw new Error(positionals.length < command.positionals ? 'missing argument' : `unexpected argument "${positionals[command.positionals]}"`);
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\nUsage: ${command.usage}\n`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
    return 0;
  }
  if ('client' in command) return command.run(values, positionals);
  try {
    await command.run(values, loadConfig());
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SetupError) {
      process.stderr.write(`outband: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));

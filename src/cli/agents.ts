import { createCryptoRandom } from '../crypto-random.ts';
import type { ServerConfig } from '../config/config.ts';
import { OutbandError } from '../domain/errors.ts';
import { SetupError } from '../services/applications.ts';
import { createAgentService, type AgentService } from '../services/agents.ts';
import { systemClock } from '../services/deps.ts';
import type { Store } from '../store/store.ts';
import { withCommandStore } from './command-store.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

/** Runs `fn` with the agent service on the configured database (migrated), as the operator. */
async function withAgents<T>(config: ServerConfig, fn: (agents: AgentService, store: Store) => Promise<T>): Promise<T> {
  try {
    return await withCommandStore(config, async (store) => {
      const agents = createAgentService({ store, clock: systemClock, random: createCryptoRandom() }, {
        idleSeconds: config.consoleSessionIdleSeconds,
        failuresPerEmail: config.consoleSignInFailuresPerEmail,
        failuresPerIp: config.consoleSignInFailuresPerIp,
      });
      return await fn(agents, store);
    });
  } catch (error) {
    // The operator reads the reason, not a stack trace.
    if (error instanceof OutbandError) throw new SetupError(error.detail);
    throw error;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The applications' names, in alphabetical order (ids are random: their order means nothing). */
async function names(store: Store, ids: string[]): Promise<string[]> {
  return (await Promise.all(ids.map(async (id) => (await store.applications.byId(id))?.name ?? id))).sort();
}

/** `outband agents …`: the console's agents, for an operator (docs/console.md). */
export const AGENT_COMMANDS = {
  'agents create': {
    summary: 'Create a console agent; prints a generated password once unless one is given',
    usage:
      'outband agents create --email EMAIL --role agent|admin [--grant APP …] [--password-stdin] [--json]\n' +
      '  --grant: an application name or id the agent may act on (repeat for more)\n' +
      '  --password-stdin: read the password (12+ characters) from stdin instead of generating one',
    options: {
      email: { type: 'string' as const },
      role: { type: 'string' as const },
      grant: { type: 'string' as const, multiple: true },
      'password-stdin': { type: 'boolean' as const },
      json: { type: 'boolean' as const },
    },
    async run(values: Values, config: ServerConfig): Promise<void> {
      const email = values['email'];
      const role = values['role'];
      if (typeof email !== 'string') throw new SetupError('--email is required');
      if (typeof role !== 'string') throw new SetupError('--role is required: agent or admin');
      const password = values['password-stdin'] === true ? await readStdin() : undefined;
      const grants = (values['grant'] as string[] | undefined) ?? [];
      await withAgents(config, async (agents, store) => {
        const created = await agents.create({ email, role, applications: grants, ...(password === undefined ? {} : { password }) });
        const apps = await names(store, created.agent.applications);
        if (values['json'] === true) {
          console.log(JSON.stringify({ id: created.agent.id, email: created.agent.email, role: created.agent.role, applications: apps, ...(created.password === undefined ? {} : { password: created.password }) }));
          return;
        }
        console.log(`created ${created.agent.role} ${created.agent.email} (${created.agent.id})${apps.length > 0 ? `, granted: ${apps.join(', ')}` : ', granted no application yet'}`);
        if (created.password !== undefined) console.log(`password: ${created.password}\n(the password is shown only now)`);
      });
    },
  },

  'agents grant': {
    summary: 'Let a console agent act on one more application',
    usage: 'outband agents grant --email EMAIL --application NAME|ID',
    options: { email: { type: 'string' as const }, application: { type: 'string' as const } },
    async run(values: Values, config: ServerConfig): Promise<void> {
      const email = values['email'];
      const application = values['application'];
      if (typeof email !== 'string') throw new SetupError('--email is required');
      if (typeof application !== 'string') throw new SetupError('--application is required');
      await withAgents(config, async (agents, store) => {
        const agent = await agents.grant(email, application);
        console.log(`${agent.email} may act on: ${(await names(store, agent.applications)).join(', ')}`);
      });
    },
  },

  'agents list': {
    summary: 'List the console agents with their role and applications',
    usage: 'outband agents list [--json]',
    options: { json: { type: 'boolean' as const } },
    async run(values: Values, config: ServerConfig): Promise<void> {
      await withAgents(config, async (agents, store) => {
        for (const agent of await agents.list()) {
          const apps = await names(store, agent.applications);
          if (values['json'] === true) console.log(JSON.stringify({ id: agent.id, email: agent.email, role: agent.role, disabled: agent.disabled_at !== null, applications: apps }));
          else console.log(`${agent.id}  ${agent.email}  ${agent.role}${agent.disabled_at === null ? '' : '  (disabled)'}  ${apps.join(', ') || '-'}`);
        }
      });
    },
  },
};

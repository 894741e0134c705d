import { createCryptoRandom } from '../crypto-random.ts';
import { once } from 'node:events';
import { pino } from 'pino';
import type { ServerConfig } from '../config/config.ts';
import { OutbandError } from '../domain/errors.ts';
import { createLocalNotifier } from '../events/notifier.ts';
import { SetupError } from '../services/applications.ts';
import { systemClock } from '../services/deps.ts';
import { createEventLogService } from '../services/event-log.ts';
import { withCommandStore } from './command-store.ts';

/**
 * `outband audit export`: the audit trail of a time range as NDJSON on stdout, one entry per line
 * (the entries of GET /v1/audit, with their application), oldest first. It reads the database
 * directly, like the other operator commands, and needs no running server.
 */
export const AUDIT_COMMANDS = {
  'audit export': {
    summary: 'Write the audit trail of a time range as NDJSON to stdout',
    usage:
      'outband audit export --from ISO|DATE --to ISO|DATE [--application ID|NAME]\n' +
      '  --from: inclusive (2026-11-25T09:00:00Z, or a UTC date: its start)\n' +
      '  --to:   exclusive (an instant, or a UTC date: its end, so --from D --to D is the day D)\n' +
      '  every application unless one is named',
    options: { from: { type: 'string' as const }, to: { type: 'string' as const }, application: { type: 'string' as const } },
    async run(values: Record<string, string | boolean | undefined>, config: ServerConfig): Promise<void> {
      const from = values['from'];
      const to = values['to'];
      if (typeof from !== 'string' || typeof to !== 'string') throw new SetupError('--from and --to are required, e.g. --from 2026-11-25 --to 2026-11-25');
      await withCommandStore(config, async (store) => {
        let applicationId: string | undefined;
        const named = values['application'];
        if (typeof named === 'string') {
          const app = (await store.applications.byId(named)) ?? (await store.applications.byName(named));
          if (app === undefined) throw new SetupError(`no application "${named}"`);
          applicationId = app.id;
        }
        const events = createEventLogService({
          store,
          clock: systemClock,
          random: createCryptoRandom(),
          notifier: createLocalNotifier(),
          logger: pino(pino.destination(2)),
        });
        try {
          for await (const entry of events.export({ from, to, ...(applicationId === undefined ? {} : { applicationId }) })) {
            if (!process.stdout.write(`${JSON.stringify(entry)}\n`)) await once(process.stdout, 'drain');
          }
        } catch (error) {
          // A bad --from or --to: the same words the API would answer with.
          if (error instanceof OutbandError) throw new SetupError(error.detail.replace(/^(from|to)\b/, '--$1'));
          throw error;
        }
      });
    },
  },
};

import { seal, unseal } from '../domain/codes/keys.ts';
import { longPoll } from '../events/woken.ts';
import { newId } from '../domain/random.ts';
import type { RenderedMessage } from '../domain/templates/render.ts';
import type { OutboxSink } from '../providers/types.ts';
import type { ServiceDeps } from './deps.ts';

export interface OutboxItem {
  id: string;
  verification_id: string | null;
  channel: string;
  to: string;
  subject: string | null;
  body: string;
  html: string | null;
  created_at: string;
}

export interface OutboxFilter {
  limit: number;
  verificationId?: string;
  to?: string;
}

/**
 * What a message stored for an application (and its verification) wakes: the waits on a
 * verification's messages, and those on the application's (any message, or to a recipient).
 * The ids' prefixes keep the subjects apart from each other and from the ids themselves.
 */
export function outboxSubject(applicationOrVerificationId: string): string {
  return `outbox:${applicationOrVerificationId}`;
}

/**
 * The development outbox: what the outbox provider "sends" is kept here, sealed like any
 * stored message, and read back only by the application it belongs to. A reader may wait for
 * a message that is not there yet (a test harness waiting for its SMS): it is woken when one
 * is stored, on this node or another (the store's wake-ups).
 */
export function createOutboxService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys' | 'notifier'>, options: { shutdown: AbortSignal }) {
  async function read(applicationId: string, filter: OutboxFilter): Promise<OutboxItem[]> {
    const messages = await deps.store.outbox.list(applicationId, filter);
    return messages.map((m) => {
      const content = JSON.parse(unseal(deps.keys.sealKey, m.sealedMessage)) as RenderedMessage;
      return {
        id: m.id,
        verification_id: m.verificationId,
        channel: m.channel,
        to: m.recipient,
        subject: content.subject ?? null,
        body: content.text,
        html: content.html ?? null,
        created_at: new Date(m.createdAt).toISOString(),
      };
    });
  }

  const sink: OutboxSink = {
    async record(message) {
      const content: RenderedMessage = { text: message.text };
      if (message.subject !== undefined) content.subject = message.subject;
      if (message.html !== undefined) content.html = message.html;
      const result = await deps.store.commit({
        writes: [
          {
            kind: 'outbox.insert',
            message: {
              id: newId('obx', deps.random),
              applicationId: message.reference.applicationId,
              verificationId: message.reference.verificationId,
              channel: message.channel,
              recipient: message.to,
              sealedMessage: seal(deps.keys.sealKey, JSON.stringify(content), deps.random),
              createdAt: deps.clock.now(),
            },
          },
          { kind: 'wake', subjectId: outboxSubject(message.reference.applicationId) },
          ...(message.reference.verificationId === null ? [] : [{ kind: 'wake' as const, subjectId: outboxSubject(message.reference.verificationId) }]),
        ],
      });
      if (!result.ok) throw new Error(`outbox: ${result.reason}`);
    },
  };

  return {
    sink,
    /**
     * The messages, newest first. With `waitSeconds`, when none matches yet, waits until one is
     * stored (or the wait ends, or the server stops) and answers what matches then.
     */
    async list(applicationId: string, filter: OutboxFilter, waitSeconds = 0): Promise<OutboxItem[]> {
      if (waitSeconds <= 0 || options.shutdown.aborted) return read(applicationId, filter);
      const deadline = deps.clock.now() + waitSeconds * 1000;
      return longPoll(deps.notifier, outboxSubject(filter.verificationId ?? applicationId), options.shutdown, async () => {
        const items = await read(applicationId, filter);
        const left = deadline - deps.clock.now();
        return items.length > 0 || left <= 0 || options.shutdown.aborted ? items : left;
      });
    },
  };
}

export type OutboxService = ReturnType<typeof createOutboxService>;

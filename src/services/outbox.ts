import { seal, unseal } from '../domain/codes/keys.ts';
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

/**
 * The development outbox: what the outbox provider "sends" is kept here, sealed like any
 * stored message, and read back only by the application it belongs to.
 */
export function createOutboxService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>) {
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
        ],
      });
      if (!result.ok) throw new Error(`outbox: ${result.reason}`);
    },
  };

  return {
    sink,
    async list(applicationId: string, options: { limit: number; verificationId?: string; to?: string }): Promise<OutboxItem[]> {
      const messages = await deps.store.outbox.list(applicationId, options);
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
    },
  };
}

export type OutboxService = ReturnType<typeof createOutboxService>;

import { Type } from 'typebox';
import type { CallProvider, EmailProvider, ProviderDefinition, SmsProvider, VoiceProvider } from './types.ts';

/**
 * The development default: messages are kept (sealed) in the database and read back through
 * `GET /v1/outbox` or `outband outbox --follow`. Nothing leaves the machine.
 */
export const outbox: ProviderDefinition<Record<string, never>> = {
  name: 'outbox',
  description: 'Development outbox: stores messages (SMS, e-mail, the words of voice calls, the caller of missed calls) for GET /v1/outbox instead of sending them',
  configSchema: Type.Object({}),
  create(_config, deps) {
    const sms: SmsProvider = {
      name: 'outbox',
      async send(message) {
        await deps.outbox.record({ channel: 'sms', to: message.to, text: message.text, reference: message.reference });
        return { providerMessageId: message.reference.deliveryId };
      },
    };
    const email: EmailProvider = {
      name: 'outbox',
      async send(message) {
        const record: Parameters<typeof deps.outbox.record>[0] = { channel: 'email', to: message.to, subject: message.subject, text: message.text, reference: message.reference };
        if (message.html !== undefined) record.html = message.html;
        await deps.outbox.record(record);
        return { providerMessageId: message.reference.deliveryId };
      },
    };
    const voice: VoiceProvider = {
      name: 'outbox',
      async send(message) {
        // The words the call would speak, and the SSML a speech engine would get.
        await deps.outbox.record({ channel: 'voice', to: message.to, subject: `Voice call (${message.language})`, text: message.speech, html: message.ssml, reference: message.reference });
        return { providerMessageId: message.reference.deliveryId };
      },
    };
    const call: CallProvider = {
      name: 'outbox',
      async call(message) {
        await deps.outbox.record({
          channel: 'missed_call',
          to: message.to,
          text: `Missed call from ${message.from} (rings ${message.ringSeconds} s)`,
          reference: message.reference,
        });
        return { providerMessageId: message.reference.deliveryId };
      },
    };
    return { sms, email, voice, call };
  },
};

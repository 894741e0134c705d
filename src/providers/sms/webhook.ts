import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { ProviderError, type InboundSmsEndpoint, type ProviderDefinition, type SmsProvider } from '../types.ts';

const ConfigSchema = Type.Object({
  url: Type.String({ env: 'SMS_WEBHOOK_URL', description: "URL of the operator's own SMS gateway; receives a signed JSON POST per message" }),
  secret: Type.String({
    env: 'SMS_WEBHOOK_SECRET',
    secret: true,
    description: 'Signing secret, "whsec_" + base64 of 24–64 random bytes (Standard Webhooks)',
  }),
  timeoutMs: Type.Integer({ env: 'SMS_WEBHOOK_TIMEOUT_MS', default: 10_000, minimum: 100, description: 'How long one request may take' }),
});

/**
 * Signature in the Standard Webhooks scheme, so a gateway can verify it with any of that
 * scheme's libraries: `webhook-signature: v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`,
 * where the key is the base64 part of the `whsec_` secret.
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** How far a signed request's timestamp may be from now: the Standard Webhooks libraries' tolerance. */
const TOLERANCE_SECONDS = 5 * 60;

/**
 * Verifies a request signed in the same scheme, as the operator's gateway signs the SMS it
 * forwards to us: any `v1,` signature in the header may match, compared in constant time.
 */
export function verifyWebhook(secret: string, headers: Record<string, string | undefined>, rawBody: string, nowMs: number): boolean {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = headers['webhook-signature'];
  if (id === undefined || signatures === undefined || !Number.isInteger(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = createHash('sha256').update(signWebhook(secret, id, timestamp, rawBody)).digest();
  let match = false;
  for (const candidate of signatures.split(' ')) {
    const given = createHash('sha256').update(candidate).digest();
    // Every candidate is compared, matched or not, so the time says nothing about which one.
    if (timingSafeEqual(given, expected)) match = true;
  }
  return match;
}

export const webhook: ProviderDefinition<Static<typeof ConfigSchema>> = {
  name: 'webhook',
  description: "SMS as a signed JSON POST to the operator's own gateway",
  configSchema: ConfigSchema,
  create(config) {
    const sms: SmsProvider = {
      name: 'webhook',
      async send(message, { signal }) {
        const id = message.reference.deliveryId;
        const timestamp = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({ id, to: message.to, text: message.text });
        let response: Response;
        try {
          response = await fetch(config.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'webhook-id': id,
              'webhook-timestamp': String(timestamp),
              'webhook-signature': signWebhook(config.secret, id, timestamp, body),
            },
            body,
            redirect: 'manual',
            signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
          });
        } catch (error) {
          throw new ProviderError(`webhook: ${(error as Error).message}`, { permanent: false, cause: error });
        }
        const text = await response.text().catch(() => '');
        if (response.status >= 200 && response.status < 300) {
          let providerMessageId: string | null = null;
          try {
            const parsed = JSON.parse(text) as { id?: unknown; message_id?: unknown };
            const candidate = parsed.message_id ?? parsed.id;
            if (typeof candidate === 'string') providerMessageId = candidate;
          } catch {
            // a gateway need not answer JSON
          }
          return { providerMessageId };
        }
        // 408, 429 and 5xx are worth another try; any other answer will not change.
        const permanent = response.status < 500 && response.status !== 408 && response.status !== 429;
        // Only the status code: the gateway's body (or reason phrase) may echo the request, code
        // included, and this message goes to the logs, the delivery record and its event.
        throw new ProviderError(`webhook: HTTP ${response.status}`, { permanent });
      },
    };
    const inboundSms: InboundSmsEndpoint = {
      authenticate: (request, now) => verifyWebhook(config.secret, request.headers, request.rawBody, now),
      parse(request, now) {
        let body: { id?: unknown; from?: unknown; to?: unknown; text?: unknown };
        try {
          body = JSON.parse(request.rawBody) as typeof body;
        } catch {
          return null;
        }
        const { id, from, to, text } = body;
        if (typeof from !== 'string' || typeof text !== 'string') return null;
        const messageId = typeof id === 'string' && id !== '' ? id : request.headers['webhook-id'];
        if (messageId === undefined) return null;
        return { provider: 'webhook', from, to: typeof to === 'string' ? to : '', text, providerMessageId: messageId, at: now };
      },
    };
    return { sms, inboundSms };
  },
};

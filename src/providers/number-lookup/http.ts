import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { countryFitsNumber, isLineType, LINE_TYPES, numberInfoFromMetadata, type LineType, type NumberInfo } from '../../domain/address/number-info.ts';
import { signWebhook } from '../sms/webhook.ts';
import { NumberLookupError, type NumberLookupDefinition } from './types.ts';

const ConfigSchema = Type.Object({
  url: Type.String({
    env: 'NUMBER_LOOKUP_HTTP_URL',
    pattern: '^https?://',
    description: 'URL of the lookup service; receives a JSON POST {"number": "+31…"} and answers {country, line_type, sim_swapped_at, ported_at}',
  }),
  token: Type.String({ env: 'NUMBER_LOOKUP_HTTP_TOKEN', default: '', secret: true, description: 'Sent as "Authorization: Bearer <token>" when set' }),
  secret: Type.String({
    env: 'NUMBER_LOOKUP_HTTP_SECRET',
    default: '',
    secret: true,
    description: 'When set ("whsec_" + base64), each request is signed in the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature)',
  }),
  timeoutMs: Type.Integer({
    env: 'NUMBER_LOOKUP_HTTP_TIMEOUT_MS',
    default: 2000,
    minimum: 100,
    maximum: 30_000,
    description: 'How long one lookup may take; a slower one counts as failed (see NUMBER_LOOKUP_ON_ERROR)',
  }),
});

/** An answer is a few hundred bytes; anything much larger is not one. */
const MAX_ANSWER_BYTES = 16 * 1024;

/**
 * Types that are tariffs of the numbering plan itself: a lookup that calls such a number
 * "mobile" is wrong (or lying), and believing it would open the door to toll fraud.
 */
const TARIFF_TYPES: ReadonlySet<LineType> = new Set(['PREMIUM_RATE', 'SHARED_COST']);

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function timestamp(field: string, value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new NumberLookupError(`number lookup: ${field} ${describe(value)} is neither epoch milliseconds nor an RFC 3339 time`);
}

/**
 * Validates a lookup's answer and merges it with the metadata's: the lookup's country must dial
 * with the number's calling code, its line type must be one of LINE_TYPES (any case), and where
 * it says nothing (null or absent) the metadata's value stands. Premium-rate and shared-cost
 * ranges of the metadata are kept whatever the lookup says.
 */
export function readLookupAnswer(e164: string, answer: unknown, source: string): NumberInfo {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new NumberLookupError('number lookup: the answer is not a JSON object');
  const body = answer as Record<string, unknown>;
  const metadata = numberInfoFromMetadata(e164);

  let country = metadata.country;
  if (body['country'] !== undefined && body['country'] !== null) {
    const given = body['country'];
    if (typeof given !== 'string' || !/^[A-Za-z]{2}$/.test(given)) throw new NumberLookupError(`number lookup: country ${describe(given)} is not an ISO 3166-1 alpha-2 code`);
    if (!countryFitsNumber(given.toUpperCase(), e164)) throw new NumberLookupError(`number lookup: country ${describe(given)} does not dial with this number's calling code`);
    country = given.toUpperCase();
  }

  let lineType = metadata.lineType;
  if (body['line_type'] !== undefined && body['line_type'] !== null) {
    const given = body['line_type'];
    const upper = typeof given === 'string' ? given.toUpperCase() : given;
    if (!isLineType(upper)) throw new NumberLookupError(`number lookup: line_type ${describe(given)} is not one of ${LINE_TYPES.join(', ')}`);
    if (!TARIFF_TYPES.has(metadata.lineType)) lineType = upper;
  }

  const info: NumberInfo = { country, lineType, source };
  const simSwappedAt = timestamp('sim_swapped_at', body['sim_swapped_at']);
  const portedAt = timestamp('ported_at', body['ported_at']);
  if (simSwappedAt !== undefined) info.simSwappedAt = simSwappedAt;
  if (portedAt !== undefined) info.portedAt = portedAt;
  return info;
}

async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_ANSWER_BYTES) throw new NumberLookupError(`number lookup: answer of ${declared} bytes is too large`);
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) throw new NumberLookupError('number lookup: answer is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Lookups bought from a service the operator chooses, over one JSON POST per number. */
export const http: NumberLookupDefinition<Static<typeof ConfigSchema>> = {
  name: 'http',
  description:
    "Number intelligence from an HTTP service the operator buys (line type, SIM swap, porting): a JSON POST per number, validated; when it fails, NUMBER_LOOKUP_ON_ERROR decides",
  configSchema: ConfigSchema,
  create(config) {
    return {
      name: 'http',
      async lookup(e164, options = {}) {
        const body = JSON.stringify({ number: e164 });
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
        if (config.token !== '') headers['authorization'] = `Bearer ${config.token}`;
        if (config.secret !== '') {
          const id = `lookup_${randomUUID()}`;
          const timestamp = Math.floor(Date.now() / 1000);
          headers['webhook-id'] = id;
          headers['webhook-timestamp'] = String(timestamp);
          headers['webhook-signature'] = signWebhook(config.secret, id, timestamp, body);
        }
        const timeout = AbortSignal.timeout(config.timeoutMs);
        const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
        let text: string;
        try {
          const response = await fetch(config.url, { method: 'POST', headers, body, redirect: 'manual', signal });
          if (response.status < 200 || response.status >= 300) {
            await response.body?.cancel().catch(() => {});
            throw new NumberLookupError(`number lookup: HTTP ${response.status}`);
          }
          text = await readCapped(response);
        } catch (error) {
          if (error instanceof NumberLookupError) throw error;
          if (timeout.aborted) throw new NumberLookupError(`number lookup: no answer within ${config.timeoutMs} ms`, { cause: error });
          throw new NumberLookupError(`number lookup: ${(error as Error).message}`, { cause: error });
        }
        let answer: unknown;
        try {
          answer = JSON.parse(text);
        } catch (error) {
          throw new NumberLookupError('number lookup: the answer is not JSON', { cause: error });
        }
        return readLookupAnswer(e164, answer, 'http');
      },
    };
  },
};

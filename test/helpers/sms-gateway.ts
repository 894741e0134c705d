import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Checks a Standard Webhooks signature, written from the specification
 * (https://www.standardwebhooks.com) and independent of the server's own signing code:
 * HMAC-SHA256 keyed with the base64-decoded part of the `whsec_` secret, over
 * `${webhook-id}.${webhook-timestamp}.${raw body}`; `webhook-signature` is a space-separated
 * list of `v1,<base64>`, any of which may match; the timestamp must be within 5 minutes.
 * Answers null when the signature holds, or why it does not.
 */
export function webhookSignatureProblem(secret: string, headers: IncomingHttpHeaders, rawBody: string, nowSeconds = Date.now() / 1000): string | null {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return 'missing headers';
  if (!/^\d+$/.test(timestamp)) return 'timestamp is not unix seconds';
  if (Math.abs(nowSeconds - Number(timestamp)) > 5 * 60) return 'timestamp out of tolerance';
  if (!secret.startsWith('whsec_')) return 'secret without whsec_ prefix';
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`, 'utf8').digest();
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return 'no matching signature';
}

/** Signs as an operator's gateway would when it forwards an inbound SMS to us (the same scheme, from the spec). */
export function signStandardWebhook(secret: string, id: string, timestamp: number, rawBody: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`, 'utf8').digest('base64')}`;
}

/** A new signing secret: "whsec_" and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface GatewayRequest {
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The JSON body; `{}` if it was not JSON. */
  body: Record<string, unknown>;
  /** null when the Standard Webhooks signature held, else why not. */
  signatureProblem: string | null;
}

/**
 * How the gateway answers one request: a status (and body, reason phrase), after `delayMs` (a
 * real gateway's latency) or at once, or never ('hang').
 */
export type GatewayAnswer = { status: number; body?: string; statusMessage?: string; delayMs?: number } | 'hang';

export interface SmsGateway {
  url: string;
  secret: string;
  /** Every request received, in order. */
  requests: GatewayRequest[];
  /** Decides the answer to each request; replace it to change the gateway's behaviour. Default 200. */
  answer: (request: GatewayRequest, index: number) => GatewayAnswer;
  /** Resolves once `count` requests in all have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<GatewayRequest[]>;
  close(): Promise<void>;
}

/** A local SMS gateway (node:http on 127.0.0.1) receiving the `webhook` provider's POSTs. */
export async function startSmsGateway(secret = newWebhookSecret()): Promise<SmsGateway> {
  const requests: GatewayRequest[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const gateway: SmsGateway = {
    url: '',
    secret,
    requests,
    answer: () => ({ status: 200, body: '{"message_id":"gw-1"}' }),
    waitForRequests(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the gateway got ${requests.length} requests, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        // recorded as {}
      }
      const request: GatewayRequest = { headers: req.headers, rawBody, body, signatureProblem: webhookSignatureProblem(secret, req.headers, rawBody) };
      requests.push(request);
      const answer = gateway.answer(request, requests.length - 1);
      for (const waiter of [...waiters]) waiter();
      if (answer === 'hang' || answer.delayMs !== undefined) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
      }
      if (answer === 'hang') return;
      const respond = () => {
        if (res.destroyed) return; // the sender went away meanwhile (killed)
        if (answer.statusMessage !== undefined) res.statusMessage = answer.statusMessage;
        res.statusCode = answer.status;
        res.setHeader('content-type', 'application/json');
        res.end(answer.body ?? '');
      };
      if (answer.delayMs === undefined) respond();
      else setTimeout(respond, answer.delayMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  return gateway;
}

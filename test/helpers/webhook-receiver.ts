import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** One POST the receiver got, checked with the reference `standardwebhooks` library. */
export interface WebhookDelivery {
  webhookId: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The verified payload; null when verification failed (see `problem`). */
  payload: { type: string; timestamp: string; data: { id: string; type: string; subject: { type: string; id: string }; [key: string]: unknown } } | null;
  /** null when the signature held, else the library's complaint. */
  problem: string | null;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The endpoint's signing secret; set it from the registration's answer before anything is sent. */
  secret: string;
  /** Every POST, in the order it arrived. */
  deliveries: WebhookDelivery[];
  /** Resolves once `done(deliveries)` holds; rejects after `timeoutMs` with `what`. */
  waitFor(what: string, done: (deliveries: WebhookDelivery[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * An Outband webhook consumer on 127.0.0.1 as docs/webhooks.md tells one to write: it verifies
 * every delivery with the reference library over the raw body and answers 204, or 400 when the
 * signature does not hold (so a bad delivery is never counted as delivered).
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const waiters = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: '',
    secret: '',
    deliveries: [],
    waitFor(what, done, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(receiver.deliveries)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${receiver.deliveries.length} deliveries so far)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let payload: WebhookDelivery['payload'] = null;
      let problem: string | null = null;
      try {
        payload = new Webhook(receiver.secret).verify(rawBody, req.headers as Record<string, string>) as WebhookDelivery['payload'];
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      receiver.deliveries.push({ webhookId: String(req.headers['webhook-id']), headers: req.headers, rawBody, payload, problem });
      res.writeHead(problem === null ? 204 : 400);
      res.end();
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** The verified deliveries grouped by event id (`data.id`): each event's webhook-ids, and how often it came. */
export function byEvent(deliveries: WebhookDelivery[]): Map<string, { type: string; subjectId: string; webhookIds: Set<string>; bodies: Set<string>; count: number }> {
  const events = new Map<string, { type: string; subjectId: string; webhookIds: Set<string>; bodies: Set<string>; count: number }>();
  for (const delivery of deliveries) {
    if (delivery.payload === null) continue;
    const { data } = delivery.payload;
    const entry = events.get(data.id) ?? { type: data.type, subjectId: data.subject.id, webhookIds: new Set<string>(), bodies: new Set<string>(), count: 0 };
    entry.webhookIds.add(delivery.webhookId);
    entry.bodies.add(delivery.rawBody);
    entry.count += 1;
    events.set(data.id, entry);
  }
  return events;
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one server instance (its own registry, so several can live in one
 * process, as in tests). Labels carry channels and statuses only: never a code, an address
 * or an id.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    verificationsStarted: new Counter({
      name: 'outband_verifications_started_total',
      help: 'Verifications started, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    verificationsEnded: new Counter({
      name: 'outband_verifications_ended_total',
      help: 'Verifications that reached a final status (approved, failed, expired, cancelled), by channel',
      labelNames: ['channel', 'status'] as const,
      registers: [registry],
    }),
    checkDuration: new Histogram({
      name: 'outband_check_duration_seconds',
      help: 'Time to handle a code check, from request to answer',
      labelNames: ['channel'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'outband_deliveries_total',
      help: 'Delivery attempts by channel, provider and outcome (sent, retry, failed)',
      labelNames: ['channel', 'provider', 'status'] as const,
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'outband_webhook_attempts_total',
      help: 'Webhook delivery attempts this node made, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'outband_leader',
      help: '1 while this node runs the expiry sweeper and the webhook dispatcher (on PostgreSQL: while it holds the leader lock), else 0',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

import type { Logger } from 'pino';
import type { ServerKeys } from '../domain/codes/keys.ts';
import type { RandomSource } from '../domain/random.ts';
import type { Notifier } from '../events/notifier.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ProviderInstances } from '../providers/types.ts';
import type { Store } from '../store/store.ts';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Providers by config name, built once from the server configuration. */
export type ProviderSet = ReadonlyMap<string, ProviderInstances>;

/** What services may use; each takes only the parts it needs. */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  random: RandomSource;
  keys: ServerKeys;
  notifier: Notifier;
  metrics: Metrics;
  logger: Logger;
  providers: ProviderSet;
}

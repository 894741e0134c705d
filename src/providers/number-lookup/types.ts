import type { TObject } from 'typebox';
import type { NumberInfo } from '../../domain/address/number-info.ts';
import { ProviderError } from '../types.ts';

export type { LineType, NumberInfo } from '../../domain/address/number-info.ts';

export interface LookupOptions {
  /** Aborted when the caller gives up (the request ends, the server shuts down). */
  signal?: AbortSignal;
}

/**
 * Number intelligence: what a phone number is (country, line type) and, from lookups that know,
 * when its SIM was swapped or it was ported. Policy (src/domain/policy/destination.ts) decides
 * what each signal does; a lookup only reports.
 */
export interface NumberLookup {
  readonly name: string;
  /** `e164` is a parsed, valid E.164 number. Throws NumberLookupError when the source fails. */
  lookup(e164: string, options?: LookupOptions): Promise<NumberInfo>;
}

/** A lookup as the registry knows it; `configSchema` is annotated as ProviderDefinition's is. */
export interface NumberLookupDefinition<Config = any> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: TObject;
  create(config: Config): NumberLookup;
}

/**
 * A lookup that failed: unreachable, too slow, an error status or an answer that does not
 * validate. The message names what went wrong, never the number, and goes to logs only.
 */
export class NumberLookupError extends ProviderError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { permanent: false, cause: options.cause });
    this.name = 'NumberLookupError';
  }
}

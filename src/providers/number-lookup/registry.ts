import { numberInfoFromMetadata, METADATA_SOURCE } from '../../domain/address/number-info.ts';
import { http } from './http.ts';
import { libphonenumber } from './libphonenumber.ts';
import { NumberLookupError, type NumberLookup, type NumberLookupDefinition } from './types.ts';

/** Every number lookup by its config name (NUMBER_LOOKUP). Adding one: its file, and a line here. */
export const NUMBER_LOOKUPS: Readonly<Record<string, NumberLookupDefinition>> = {
  http,
  libphonenumber,
};

export const DEFAULT_NUMBER_LOOKUP = 'libphonenumber';

/** What a failed lookup leads to: the metadata's answer (`fallback`), or no send at all (`refuse`). */
export type NumberLookupOnError = 'fallback' | 'refuse';

/** The `source` of an answer that fell back to the metadata because the configured lookup failed. */
export const FALLBACK_SOURCE = `${METADATA_SOURCE} (lookup failed)`;

export interface NumberLookupSettings {
  /** A key of NUMBER_LOOKUPS. */
  name: string;
  /** The lookup's own settings, validated against its configSchema. */
  config: Record<string, unknown>;
  onError: NumberLookupOnError;
}

/**
 * The configured lookup, made total: with `fallback`, a failure answers from the metadata with
 * `source: "libphonenumber (lookup failed)"`; with `refuse`, it throws NumberLookupError (the
 * caller answers 503 `number_lookup_unavailable`). `onFailure` sees every failure, for logs and
 * metrics. See docs/decisions/0014-number-intelligence.md.
 */
export function createNumberLookup(settings: NumberLookupSettings, hooks: { onFailure?: (error: NumberLookupError) => void } = {}): NumberLookup {
  const definition = NUMBER_LOOKUPS[settings.name];
  if (definition === undefined) throw new Error(`no number lookup named "${settings.name}"`);
  const inner = definition.create(settings.config);
  return {
    name: inner.name,
    async lookup(e164, options = {}) {
      try {
        return await inner.lookup(e164, options);
      } catch (caught) {
        const error = caught instanceof NumberLookupError ? caught : new NumberLookupError(`number lookup: ${(caught as Error).message}`, { cause: caught });
        hooks.onFailure?.(error);
        // Nobody waits for an answer any more (the request ended, the server stops).
        if (options.signal?.aborted === true || settings.onError === 'refuse') throw error;
        return { ...numberInfoFromMetadata(e164), source: FALLBACK_SOURCE };
      }
    },
  };
}

import { OutbandError } from '../errors.ts';

/** The canonical form of a BCP 47 tag ("nl-be" → "nl-BE"); throws `invalid_locale`. */
export function parseLocale(input: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(input);
    if (canonical !== undefined) return canonical;
  } catch {
    // falls through to the error below
  }
  throw new OutbandError('invalid_locale', `"${input}" is not a BCP 47 language tag such as "en" or "nl-BE"`);
}

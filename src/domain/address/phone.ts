import { isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import { OutbandError } from '../errors.ts';

export interface Phone {
  /** E.164, e.g. +31612345678 */
  e164: string;
  country: string | null;
}

/**
 * Parses international (`+31 6 1234 5678`) or national (`06 12345678` with country `NL`) input.
 * Throws `invalid_phone_number` with a message that says what is wrong.
 */
export function parsePhone(input: string, countryHint?: string): Phone {
  const country = countryHint?.toUpperCase();
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
    throw new OutbandError('invalid_phone_number', `country must be an ISO 3166-1 alpha-2 code such as "NL"; got "${countryHint}"`);
  }
  // Otherwise an unknown code fails as INVALID_COUNTRY, whose hint blames the number instead.
  if (country !== undefined && !isSupportedCountry(country)) {
    throw new OutbandError('invalid_phone_number', `country "${countryHint}" is not a country with phone numbers; use an ISO 3166-1 alpha-2 code such as "NL"`);
  }
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(input, country as CountryCode | undefined);
  } catch (error) {
    const why = error instanceof Error ? error.message : 'unparseable';
    const hint = why === 'INVALID_COUNTRY' ? ': give it in international form (+CC…) or pass a country' : '';
    throw new OutbandError('invalid_phone_number', `"${input}" is not a phone number (${why.toLowerCase()})${hint}`);
  }
  if (!parsed.isValid()) {
    throw new OutbandError('invalid_phone_number', `"${input}" is not a valid number for ${parsed.country ?? `+${parsed.countryCallingCode}`}`);
  }
  return { e164: parsed.number, country: parsed.country ?? null };
}

/** Masks already made: every view of a verification masks its number again, and parsing it is the cost. */
const masks = new Map<string, string>();
const MASKS_KEPT = 4096;

/** "+31 6 •••• ••78": country code and first group stay, the rest is hidden but its last two digits. */
export function maskPhone(e164: string): string {
  let masked = masks.get(e164);
  if (masked === undefined) {
    masked = maskUncached(e164);
    // The oldest made goes first; a number seen often is simply made again after it.
    if (masks.size >= MASKS_KEPT) masks.delete(masks.keys().next().value!);
    masks.set(e164, masked);
  }
  return masked;
}

function maskUncached(e164: string): string {
  let formatted: string;
  try {
    formatted = parsePhoneNumberWithError(e164).formatInternational();
  } catch {
    formatted = e164;
  }
  const [countryCode = '', first = '', ...rest] = formatted.split(' ');
  const hidden = rest.join('');
  if (hidden.length === 0) return `${countryCode} ${'•'.repeat(Math.max(0, first.length - 2))}${first.slice(-2)}`;
  const masked = '•'.repeat(Math.max(0, hidden.length - 2)) + hidden.slice(-2);
  const groups = masked.match(/.{1,4}/g) ?? [];
  return [countryCode, first, ...groups].join(' ');
}

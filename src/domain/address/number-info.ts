import { getCountryCallingCode, isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';

/** libphonenumber's number types, plus `UNKNOWN` for a number of no known type. */
export const LINE_TYPES = [
  'MOBILE',
  'FIXED_LINE',
  'FIXED_LINE_OR_MOBILE',
  'VOIP',
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'UNKNOWN',
] as const;
export type LineType = (typeof LINE_TYPES)[number];

export function isLineType(value: unknown): value is LineType {
  return typeof value === 'string' && (LINE_TYPES as readonly string[]).includes(value);
}

/** What is known about a phone number before anything is sent to it. */
export interface NumberInfo {
  /** ISO 3166-1 alpha-2; null for numbers of no country (+870, +882, …) or that do not parse. */
  country: string | null;
  lineType: LineType;
  /** Epoch ms of the last SIM swap; null: the source says none; absent: the source does not tell. */
  simSwappedAt?: number | null;
  /** Epoch ms of the last port to another operator; null and absent as for `simSwappedAt`. */
  portedAt?: number | null;
  /** Which lookup answered, e.g. "libphonenumber", "http", "libphonenumber (lookup failed)". */
  source: string;
}

export const METADATA_SOURCE = 'libphonenumber';

/**
 * Country and type from the numbering-plan metadata (libphonenumber-js max build; the min build
 * answers no type for most countries). Pure: the metadata is static data. A number that does not
 * parse, or lies in no range of a known type, is `UNKNOWN`.
 */
export function numberInfoFromMetadata(e164: string): NumberInfo {
  try {
    const parsed = parsePhoneNumberWithError(e164);
    return { country: parsed.country ?? null, lineType: parsed.getType() ?? 'UNKNOWN', source: METADATA_SOURCE };
  } catch {
    return { country: null, lineType: 'UNKNOWN', source: METADATA_SOURCE };
  }
}

/**
 * Whether `country` (alpha-2) dials with the number's calling code: a lookup may place +1 in CA
 * rather than US, but never +44 in NL.
 */
export function countryFitsNumber(country: string, e164: string): boolean {
  if (!isSupportedCountry(country)) return false;
  try {
    return parsePhoneNumberWithError(e164).countryCallingCode === getCountryCallingCode(country as CountryCode);
  } catch {
    return false;
  }
}

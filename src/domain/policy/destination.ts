import type { LineType, NumberInfo } from '../address/number-info.ts';
import type { ApplicationSettings, FraudSettings, PhoneChannel } from '../application.ts';

export type DestinationRefusalCode = 'destination_not_allowed' | 'line_type_not_permitted' | 'number_type_not_permitted';

export type DestinationDecision =
  | { ok: true; country: string | null; lineType: LineType; safeListed: boolean }
  | { ok: false; code: DestinationRefusalCode; reasons: string[]; country: string | null; lineType: LineType; safeListed: boolean };

export interface DestinationCheck {
  channel: PhoneChannel;
  /** The parsed E.164 number. */
  e164: string;
  info: NumberInfo;
  settings: {
    allowedCountries: ApplicationSettings['allowedCountries'];
    fraud: Pick<FraudSettings, 'refusedNumberTypes' | 'voip' | 'safeList'>;
  };
  /** Unused today; for signals with an age (SIM swap, porting) once a setting says what they do. */
  now: number;
}

/** Types no SMS can reach: ranges of fixed lines and services (SEC-35: non-SMS-capable numbers). */
export const NOT_SMS_CAPABLE: ReadonlySet<LineType> = new Set(['FIXED_LINE', 'PAGER', 'VOICEMAIL', 'UAN']);

/** How many trailing digits a 1000-block leaves open: the unit of the safe list's geo override and of prefix velocity. */
const BLOCK_DIGITS = 3;

/** The number minus its last 3 digits ("+31612345678" → "+31612345"): what prefix velocity counts. */
export function destinationPrefix(e164: string): string {
  return e164.length > BLOCK_DIGITS + 2 ? e164.slice(0, -BLOCK_DIGITS) : e164;
}

export interface SafeListMatch {
  /** Some entry is the number or a prefix of it. */
  listed: boolean;
  /** Some such entry leaves at most 3 digits open (the number or its 1000-block): it also overrides the country allow-list. */
  narrow: boolean;
}

/** Matches a number against `fraud.safe_list` (E.164 numbers and prefixes such as "+3161234"). */
export function matchSafeList(e164: string, safeList: readonly string[]): SafeListMatch {
  let listed = false;
  let narrow = false;
  for (const entry of safeList) {
    if (!/^\+\d+$/.test(entry) || !e164.startsWith(entry)) continue;
    listed = true;
    if (e164.length - entry.length <= BLOCK_DIGITS) narrow = true;
  }
  return { listed, narrow };
}

/**
 * Whether a phone channel may send to a number, from what a NumberLookup said about it and the
 * application's settings (SEC-15, SEC-33, SEC-35). Pure: the caller looks the number up and acts
 * on the decision. Rules, all evaluated so that `reasons` lists every one that refuses:
 *
 * 1. Country allow-list (`allowed_countries.<channel>`, when set): a country not on it, or a
 *    number of no country, is `destination_not_allowed`. A safe-list entry overrides this only
 *    when it names the number or its 1000-block (at most 3 digits left open), as Twilio's safe
 *    list does; a broader prefix does not re-open a country (ADR 0014).
 * 2. `fraud.voip = deny` refuses VoIP numbers: `line_type_not_permitted`. An assurance rule
 *    (a VoIP number proves no SIM), so the safe list does not override it.
 * 3. A type in `fraud.refused_number_types`, or for `sms` a type that cannot take an SMS (fixed
 *    line, pager, voicemail, UAN): `number_type_not_permitted`. Fraud controls: a safe-listed
 *    number skips them.
 *
 * When several refuse, `code` is the first of that order. The safe list never lifts usage
 * limits; velocity guards should skip safe-listed numbers (`safeListed`).
 */
export function checkDestination({ channel, e164, info, settings }: DestinationCheck): DestinationDecision {
  const { country, lineType } = info;
  const safe = matchSafeList(e164, settings.fraud.safeList);
  const refusals: { code: DestinationRefusalCode; reason: string }[] = [];

  const allowed = settings.allowedCountries[channel];
  if (allowed !== undefined && allowed !== null && !safe.narrow) {
    const list = allowed.map((c) => c.toUpperCase());
    const named = list.length === 0 ? 'no country' : list.join(', ');
    if (country === null) {
      refusals.push({ code: 'destination_not_allowed', reason: `the number belongs to no country, and allowed_countries.${channel} allows only ${named}` });
    } else if (!list.includes(country.toUpperCase())) {
      refusals.push({ code: 'destination_not_allowed', reason: `${country} is not in allowed_countries.${channel} (${named})` });
    }
  }

  if (lineType === 'VOIP' && settings.fraud.voip === 'deny') {
    refusals.push({ code: 'line_type_not_permitted', reason: 'VoIP numbers are not permitted (fraud.voip is deny)' });
  }

  if (!safe.listed) {
    if (settings.fraud.refusedNumberTypes.includes(lineType)) {
      refusals.push({ code: 'number_type_not_permitted', reason: `number type ${lineType} is refused (fraud.refused_number_types)` });
    }
    if (channel === 'sms' && NOT_SMS_CAPABLE.has(lineType)) {
      refusals.push({ code: 'number_type_not_permitted', reason: `a ${lineType} number cannot receive SMS` });
    }
  }

  if (refusals.length === 0) return { ok: true, country, lineType, safeListed: safe.listed };
  const order: DestinationRefusalCode[] = ['destination_not_allowed', 'line_type_not_permitted', 'number_type_not_permitted'];
  const code = order.find((c) => refusals.some((r) => r.code === c)) as DestinationRefusalCode;
  return { ok: false, code, reasons: refusals.map((r) => r.reason), country, lineType, safeListed: safe.listed };
}

import { isGsm7 } from '../sms/encoding.ts';

// Typography that has a plain look-alike in the GSM 7-bit alphabet.
const LOOKALIKES: ReadonlyArray<readonly [RegExp, string]> = [
  [/[\u00A0\u2007\u2009\u202F]/g, ' '], // no-break, figure, thin and narrow no-break spaces (French "à 14:58 ?", "9:00 PM")
  [/[\u2018\u2019]/g, "'"],
  [/[\u201C\u201D]/g, '"'],
  [/[\u2013\u2014]/g, '-'],
  [/\u2026/g, '...'],
];

/**
 * An SMS text with its typography folded to plain look-alikes (’ → ', U+202F → space) when that
 * makes the whole text GSM 7-bit: one SMS then holds 160 characters instead of 70. A text that
 * needs UCS-2 anyway keeps its typography.
 *
 * @example
 * foldForSms('Valable jusqu’à aujourd’hui à 14:58'); // "Valable jusqu'à aujourd'hui à 14:58"
 * foldForSms('Su código caduca hoy'); // unchanged: "ó" needs UCS-2 anyway
 */
export function foldForSms(text: string): string {
  if (isGsm7(text)) return text;
  let folded = text;
  for (const [pattern, plain] of LOOKALIKES) folded = folded.replace(pattern, plain);
  return isGsm7(folded) ? folded : text;
}

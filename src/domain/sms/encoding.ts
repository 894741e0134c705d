/**
 * How an SMS text is carried: the GSM 7-bit default alphabet when every character is in it,
 * UCS-2 (UTF-16, as phones read it) otherwise, and how a long text is cut into the parts of a
 * concatenated SMS. Pure: no I/O.
 *
 * @example
 * analyzeSms('Je code is 123456');   // { encoding: 'gsm7', units: 17, segments: 1 }
 * analyzeSms('验证码 123456');        // { encoding: 'ucs2', units: 10, segments: 1 }
 * splitSms('€'.repeat(100)).parts;   // two parts of 76 and 24 euro signs (2 septets each)
 */

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsAnalysis {
  encoding: SmsEncoding;
  /** Septets for GSM-7 (an extension character counts 2), UTF-16 code units for UCS-2. */
  units: number;
  /** How many SMS the text takes: 1 when it fits one message, else the parts of a concatenated SMS. */
  segments: number;
}

export interface SmsSplit {
  encoding: SmsEncoding;
  /** The text of each SMS, in order; one part when it fits a single message (also for ''). */
  parts: string[];
}

/**
 * 3GPP TS 23.038 §6.2.1, the default alphabet, by septet value (0x1B, the escape to the
 * extension table, is left out: it is not a character a text may contain).
 */
const DEFAULT_ALPHABET =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u0000ÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** 3GPP TS 23.038 §6.2.1.1, the default extension table: each is sent as ESC (0x1B) and this septet. */
const EXTENSION: ReadonlyMap<string, number> = new Map([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

const ESCAPE = 0x1b;

const BASIC: ReadonlyMap<string, number> = new Map(
  [...DEFAULT_ALPHABET].flatMap((char, septet) => (septet === ESCAPE ? [] : [[char, septet] as const])),
);

/** Limits in units (septets or UTF-16 code units): one SMS, and one part of a concatenated SMS (6 octets go to the UDH). */
export const SMS_LIMITS = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
} as const;

/** Septets of one character in the default alphabet, or undefined when it has none. */
function septetCost(char: string): 1 | 2 | undefined {
  if (BASIC.has(char)) return 1;
  if (EXTENSION.has(char)) return 2;
  return undefined;
}

/** Whether every character of the text is in the GSM 7-bit default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (const char of text) if (septetCost(char) === undefined) return false;
  return true;
}

/**
 * The text as unpacked septets, one per octet, as SMPP carries data_coding 0: an extension
 * character becomes 0x1B and its septet. Throws when a character is not in the alphabet.
 */
export function encodeGsm7(text: string): Uint8Array {
  const out: number[] = [];
  for (const char of text) {
    const basic = BASIC.get(char);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const extended = EXTENSION.get(char);
    if (extended === undefined) throw new RangeError(`not in the GSM 7-bit alphabet: U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
    out.push(ESCAPE, extended);
  }
  return Uint8Array.from(out);
}

/**
 * Cuts the text into parts of at most `limit` units, whole characters only: an extension
 * character (2 septets) or a surrogate pair (2 code units) never straddles two parts.
 */
function cut(text: string, cost: (char: string) => number, single: number, part: number): string[] {
  let total = 0;
  for (const char of text) total += cost(char);
  if (total <= single) return [text];
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const char of text) {
    const c = cost(char);
    if (used + c > part) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += char;
    used += c;
  }
  parts.push(current);
  return parts;
}

/** The encoding a text needs and the parts it is sent as. */
export function splitSms(text: string): SmsSplit {
  if (isGsm7(text)) {
    return { encoding: 'gsm7', parts: cut(text, (char) => septetCost(char)!, SMS_LIMITS.gsm7.single, SMS_LIMITS.gsm7.part) };
  }
  return { encoding: 'ucs2', parts: cut(text, (char) => char.length, SMS_LIMITS.ucs2.single, SMS_LIMITS.ucs2.part) };
}

/** The encoding a text needs, its length in that encoding's units, and how many SMS it takes. */
export function analyzeSms(text: string): SmsAnalysis {
  const { encoding, parts } = splitSms(text);
  const units = encoding === 'gsm7' ? encodeGsm7(text).length : text.length;
  return { encoding, units, segments: parts.length };
}

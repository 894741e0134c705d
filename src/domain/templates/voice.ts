/**
 * How a code is spoken: digit by digit with a pause between, so that "561126" is never read as
 * "five hundred sixty-one thousand…". The templates say it twice ("… is {code}. Again: {code}.").
 */

/** Pause between two characters of the code in SSML. */
export const DIGIT_PAUSE = '300ms';

/**
 * The code as plain speech, for engines that take text: "5, 6, 1, 1, 2, 6". The commas make
 * every engine pause, in every language we speak.
 */
export function spokenCode(code: string): string {
  return [...code].join(', ');
}

/**
 * The code as SSML: digits separated by `<break time="300ms"/>`; a letter (codes are digits
 * today) is spelled with `<say-as interpret-as="characters">`.
 */
export function ssmlCode(code: string): string {
  return [...code]
    .map((char) => (/^[0-9]$/.test(char) ? char : `<say-as interpret-as="characters">${xmlEscape(char)}</say-as>`))
    .join(`<break time="${DIGIT_PAUSE}"/>`);
}

/** An SSML document (version 1.0: Azure refuses any other; Polly and Google read it too) in the BCP 47 `language`. */
export function ssmlDocument(body: string, language: string): string {
  return `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${xmlEscape(language)}">${body}</speak>`;
}

/** Text as XML character data or attribute value; characters XML cannot hold are dropped. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

import { BUILT_IN_LOCALES, FALLBACK_LOCALE } from './catalog.ts';

/**
 * Which language a message is written in: the requested tag and its shorter prefixes, then the
 * application's default locale and its prefixes, then English. The first that has templates wins.
 * `available` is the built-in set unless the caller adds an application's own locales.
 *
 * @example
 * resolveLocale('nl-BE', 'de');  // 'nl'
 * resolveLocale('pt-BR', 'de');  // 'de'
 * resolveLocale('pt-BR', 'ja');  // 'en'
 */
export function resolveLocale(requested: string, defaultLocale: string | undefined, available: readonly string[] = BUILT_IN_LOCALES): string {
  const byLowerCase = new Map(available.map((locale) => [locale.toLowerCase(), locale]));
  for (const tag of [requested, defaultLocale ?? FALLBACK_LOCALE, FALLBACK_LOCALE]) {
    for (const candidate of prefixes(tag)) {
      const match = byLowerCase.get(candidate.toLowerCase());
      if (match !== undefined) return match;
    }
  }
  // Only an `available` without English gets here.
  const first = available[0];
  if (first === undefined) throw new Error('resolveLocale: no locale is available');
  return first;
}

/**
 * The tag that dates, times and durations are formatted in: the most specific of the requested
 * and default tags that is in the message's language ("en-GB" formats 14:58 where "en" says
 * 2:58 PM), else the message's locale itself.
 */
export function formattingLocale(messageLocale: string, candidates: ReadonlyArray<string | undefined>): string {
  const language = languageOf(messageLocale);
  for (const tag of candidates) {
    if (tag === undefined) continue;
    const canonical = canonicalTag(tag);
    if (canonical !== undefined && languageOf(canonical) === language) return canonical;
  }
  return messageLocale;
}

/**
 * Regional voices that every text-to-speech engine we target speaks (Twilio's basic voices
 * included). Other regions get the language's main one: nl-BE → nl-NL, de-AT → de-DE.
 */
const REGIONAL_VOICES = new Set(['en-AU', 'en-CA', 'en-GB', 'en-IN', 'es-MX', 'fr-CA']);

/**
 * The BCP 47 language a voice message is spoken in: a supported regional voice of the formatting
 * tag, else the language's likely region (nl → nl-NL, en → en-US, de → de-DE, fr → fr-FR,
 * es → es-ES, pt → pt-BR).
 */
export function voiceLanguage(tag: string): string {
  const locale = new Intl.Locale(tag);
  if (locale.region !== undefined) {
    const regional = `${locale.language}-${locale.region}`;
    if (REGIONAL_VOICES.has(regional)) return regional;
  }
  const likely = new Intl.Locale(locale.language).maximize();
  return likely.region === undefined ? locale.language : `${likely.language}-${likely.region}`;
}

/** The language subtag: "nl-BE" → "nl". */
export function languageOf(tag: string): string {
  return (canonicalTag(tag) ?? tag).split('-')[0]!.toLowerCase();
}

/** "nl-BE" → ["nl-BE", "nl"]; "zh-Hant-TW" → ["zh-Hant-TW", "zh-Hant", "zh"]. */
function prefixes(tag: string): string[] {
  const parts = tag.split('-');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('-'));
}

function canonicalTag(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

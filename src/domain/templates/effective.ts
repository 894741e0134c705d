import type { Purpose } from '../verification/verification.ts';
import { BUILT_IN_CATALOG, DEFAULT_PURPOSE, FALLBACK_LOCALE, type ChannelTemplate, type LocaleCatalog, type TemplateChannel } from './catalog.ts';

/** An application's own template of one channel, as far as choosing one is concerned. */
export interface OwnTemplate {
  purpose: string;
  /** Canonical BCP 47 tag, e.g. "nl-BE". */
  locale: string;
  template: ChannelTemplate;
}

/** The template a message is written from, and where it came from. */
export type EffectiveTemplate<T extends OwnTemplate = OwnTemplate> =
  | { source: 'application'; locale: string; purpose: Purpose; template: ChannelTemplate; own: T }
  | { source: 'built_in'; locale: string; purpose: Purpose; template: ChannelTemplate };

/**
 * The locales tried for a message, in order: the requested tag and its shorter prefixes, the
 * application's default and its prefixes, then English; each once. The same walk as
 * resolveLocale, which it extends with an application's own locales.
 *
 * @example
 * localeChain('nl-BE', 'de-AT'); // ['nl-BE', 'nl', 'de-AT', 'de', 'en']
 */
export function localeChain(requested: string, defaultLocale: string | undefined): string[] {
  const chain: string[] = [];
  for (const tag of [requested, defaultLocale ?? FALLBACK_LOCALE, FALLBACK_LOCALE]) {
    const parts = tag.split('-');
    for (let n = parts.length; n > 0; n--) {
      const candidate = parts.slice(0, n).join('-');
      if (!chain.some((c) => c.toLowerCase() === candidate.toLowerCase())) chain.push(candidate);
    }
  }
  return chain;
}

/**
 * Which template a message of `channel` and `purpose` uses, given the application's own
 * templates of that channel. Walks the locale chain (see localeChain); at each locale it takes
 * the first of:
 *
 * 1. the application's own template for the purpose;
 * 2. the built-in template for the purpose;
 * 3. the application's own `authentication` template (the stand-in for every purpose);
 * 4. the built-in `authentication` template.
 *
 * A language the user reads beats the application's wording: an own "en" template is not used
 * for a request in "nl" while a built-in Dutch one exists. And a purpose's own words beat the
 * application's generic ones: a transaction is never confirmed with a message that only says
 * "your code is", so an own `authentication` template stands in for a purpose only in a
 * language Outband has no built-in words for.
 *
 * @example
 * effectiveTemplate([{ purpose: 'authentication', locale: 'nl', template }], 'sms', 'authentication', 'nl-BE', 'en');
 * // { source: 'application', locale: 'nl', purpose: 'authentication', template, own: … }
 */
export function effectiveTemplate<T extends OwnTemplate>(
  own: readonly T[],
  channel: TemplateChannel,
  purpose: Purpose,
  requested: string,
  defaultLocale: string | undefined,
  catalog: Readonly<Record<string, LocaleCatalog>> = BUILT_IN_CATALOG,
): EffectiveTemplate<T> {
  const builtInLocales = new Map(Object.keys(catalog).map((l) => [l.toLowerCase(), l]));
  const ownFor = (p: Purpose, locale: string): EffectiveTemplate<T> | undefined => {
    const found = own.find((t) => t.purpose === p && t.locale.toLowerCase() === locale.toLowerCase());
    return found === undefined ? undefined : { source: 'application', locale: found.locale, purpose: p, template: found.template, own: found };
  };
  const builtInFor = (p: Purpose, locale: string): EffectiveTemplate<T> | undefined => {
    const builtInLocale = builtInLocales.get(locale.toLowerCase());
    const template = builtInLocale === undefined ? undefined : catalog[builtInLocale]?.templates[channel][p];
    return template === undefined || builtInLocale === undefined ? undefined : { source: 'built_in', locale: builtInLocale, purpose: p, template };
  };

  for (const locale of localeChain(requested, defaultLocale)) {
    const found =
      ownFor(purpose, locale) ??
      builtInFor(purpose, locale) ??
      (purpose === DEFAULT_PURPOSE ? undefined : (ownFor(DEFAULT_PURPOSE, locale) ?? builtInFor(DEFAULT_PURPOSE, locale)));
    if (found !== undefined) return found;
  }
  // Only a catalog without English gets here.
  throw new Error(`no ${channel} template for ${requested}: the catalog has no ${FALLBACK_LOCALE}`);
}

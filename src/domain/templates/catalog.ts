import type { Purpose } from '../verification/verification.ts';
import { de } from './locales/de.ts';
import { en } from './locales/en.ts';
import { es } from './locales/es.ts';
import { fr } from './locales/fr.ts';
import { nl } from './locales/nl.ts';

/**
 * The built-in message templates, ICU MessageFormat, keyed channel × purpose × locale. Each
 * language lives in its own file under `locales/`; this module puts them together and looks
 * a template up.
 *
 * Placeholders: {code}, {app_name}, {expires_in} ("10 minutes"), {expires_at} ("today at
 * 14:58"), {purpose} (an id, for `{purpose, select, …}`) and the request's params by name.
 */

/** The channels that carry words. A missed call carries none: its caller number is the code. */
export const TEMPLATE_CHANNELS = ['sms', 'email', 'voice', 'push'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

export const PURPOSES = ['authentication', 'pairing', 'transaction', 'caller_verification'] as const satisfies readonly Purpose[];
/** The purpose whose templates stand in for a purpose without its own. */
export const DEFAULT_PURPOSE = 'authentication' satisfies Purpose;

/**
 * One message's templates. Which fields a channel takes: sms and voice `text`; email `subject`,
 * `text` and optionally `html`; push `title` and `text` (the body).
 *
 * @example
 * { subject: 'Your {app_name} verification code', text: 'Your {app_name} verification code is {code}.' }
 */
export interface ChannelTemplate {
  subject?: string;
  /** Push only: the notification's title. */
  title?: string;
  /** The SMS, the e-mail's plain-text part, the words spoken on a call, or the push body. */
  text: string;
  /** E-mail only. ICU tags are off (`ignoreTag`); placeholder values are HTML-escaped. */
  html?: string;
}

/** Templates of one channel: `authentication`'s are required and stand in for the others. */
export type PurposeTemplates = { authentication: ChannelTemplate } & Partial<Record<Purpose, ChannelTemplate>>;

/** A language's wording. */
export interface LocaleCatalog {
  templates: Record<TemplateChannel, PurposeTemplates>;
  /**
   * The phrases {expires_at} becomes, ICU with {time} ("14:58", "2:58 PM"), {date} ("6 March
   * 2026") and {hour} (the hour as shown, a number: Spanish says "a la 1:05" but "a las 2:05").
   * Each reads after a verb: "It expires {expires_at}." → "It expires today at 2:58 PM.".
   */
  expiresAt: { today: string; tomorrow: string; later: string };
}

export const BUILT_IN_CATALOG: Readonly<Record<string, LocaleCatalog>> = { en, nl, de, fr, es };

/** The languages with built-in templates. */
export const BUILT_IN_LOCALES: readonly string[] = Object.keys(BUILT_IN_CATALOG);

/** The last step of every locale fallback chain. */
export const FALLBACK_LOCALE = 'en';

/** The built-in template of a channel, purpose and built-in locale; `authentication`'s when the purpose has none. */
export function builtInTemplate(
  channel: TemplateChannel,
  purpose: Purpose,
  locale: string,
  catalog: Readonly<Record<string, LocaleCatalog>> = BUILT_IN_CATALOG,
): ChannelTemplate | undefined {
  const templates = catalog[locale]?.templates[channel];
  return templates?.[purpose] ?? templates?.authentication;
}

import type { IntlMessageFormat } from 'intl-messageformat';
import type { Purpose } from '../verification/verification.ts';
import { builtInTemplate, DEFAULT_PURPOSE, type ChannelTemplate, type TemplateChannel } from './catalog.ts';
import { formattingLocale, resolveLocale, voiceLanguage } from './locale.ts';
import { isKnownPlaceholder, PARAM_NAME, parseTemplate, placeholderUses } from './placeholders.ts';
import { foldForSms } from './sms-fold.ts';
import { formatDuration, formatExpiresAt } from './time-phrases.ts';
import { spokenCode, ssmlCode, ssmlDocument, xmlEscape } from './voice.ts';

export { formatDuration } from './time-phrases.ts';

export interface TemplateValues {
  /** The code: {code}. Every channel's templates use it but push's, which carries none. */
  code?: string | undefined;
  /** {app_name} */
  appName: string;
  /** Seconds until the code expires: {expires_in} ("10 minutes"). */
  ttlSeconds: number;
  /** When the code expires, ms since the epoch: {expires_at}. Default `now` + `ttlSeconds`. */
  expiresAt?: number | undefined;
  /**
   * The request's template parameters, by the name a template writes (`{order_id}`). Names a
   * template does not use are ignored; a name that is not a parameter name (see PARAM_NAME) or
   * is one of Outband's own placeholders is never filled from here.
   */
  params?: Readonly<Record<string, string | number>> | undefined;
}

export interface RenderInput {
  channel: TemplateChannel;
  /** Default `authentication`, whose templates also stand in for a purpose without its own. */
  purpose?: Purpose | undefined;
  /** The requested BCP 47 tag (the request's, else the user's), e.g. "nl-BE". */
  locale: string;
  /** The application's default locale: the second step of the fallback chain (see resolveLocale). */
  defaultLocale?: string | undefined;
  /** The current instant, ms since the epoch; needed by a template that uses {expires_at}. */
  now?: number | undefined;
  /** The application's IANA time zone, in which {expires_at} is said. Servers run in UTC: pass it. */
  timeZone: string;
  values: TemplateValues;
  /** An application's own template, used instead of the built-in one, with the locale it is written in. */
  override?: { locale: string; template: ChannelTemplate } | undefined;
}

/** A rendered message: the fields of the channel's template, and for voice the SSML and its language. */
export interface RenderedTemplate {
  /** The locale whose template was used: "nl" for a request in "nl-BE". */
  locale: string;
  /** E-mail. */
  subject?: string;
  /** Push. */
  title?: string;
  /** The SMS, the e-mail's text part, the push body, or the plain speech of a call. */
  text: string;
  /** E-mail. */
  html?: string;
  /** Voice: the speech as an SSML document. */
  ssml?: string;
  /** Voice: the BCP 47 language to speak in, e.g. "nl-NL". */
  voiceLanguage?: string;
}

/**
 * Renders a channel's message for a purpose in the best locale the request allows.
 *
 * Values never go through the ICU parser: "{code}" in an app name stays text. In HTML they are
 * escaped and the template's markup is kept; in SSML the template's words are escaped and the
 * code becomes digits with pauses. An SMS is folded to GSM 7-bit look-alikes where that helps.
 *
 * @example
 * renderTemplate({ channel: 'sms', locale: 'nl-BE', timeZone: 'Europe/Amsterdam', values: { code: '482913', appName: 'Acme', ttlSeconds: 600 } });
 * // { locale: 'nl', text: 'Uw code voor Acme is 482913. De code is 10 minuten geldig. Deel hem nooit met anderen.' }
 */
export function renderTemplate(input: RenderInput): RenderedTemplate {
  const purpose = input.purpose ?? DEFAULT_PURPOSE;
  const locale = input.override?.locale ?? resolveLocale(input.locale, input.defaultLocale);
  const template = input.override?.template ?? builtInTemplate(input.channel, purpose, locale);
  if (template === undefined) throw new Error(`no built-in ${input.channel} template for ${locale}`);
  const context: Context = { input, purpose, formatLocale: formattingLocale(locale, [input.locale, input.defaultLocale]) };

  const rendered: RenderedTemplate = { locale, text: '' };
  switch (input.channel) {
    case 'sms':
      rendered.text = foldForSms(renderText(template.text, context));
      break;
    case 'email':
      rendered.subject = renderText(template.subject ?? '', context);
      rendered.text = renderText(template.text, context);
      if (template.html !== undefined) rendered.html = renderHtml(template.html, context);
      break;
    case 'voice':
      rendered.voiceLanguage = voiceLanguage(context.formatLocale);
      rendered.text = renderText(template.text, context, 'speech');
      rendered.ssml = ssmlDocument(renderSsml(template.text, context), rendered.voiceLanguage);
      break;
    case 'push':
      rendered.title = renderText(template.title ?? '', context);
      rendered.text = renderText(template.text, context);
      break;
  }
  return rendered;
}

export interface MessageValues extends TemplateValues {
  code: string;
  purpose?: Purpose | undefined;
  defaultLocale?: string | undefined;
  now?: number | undefined;
  /** Default UTC: applications have no time zone setting yet. */
  timeZone?: string | undefined;
  /** The application's own template to use instead of the built-in one (see effectiveTemplate). */
  override?: { locale: string; template: ChannelTemplate } | undefined;
}

/** What a delivery carries: a RenderedTemplate without its locale. */
export type RenderedMessage = Omit<RenderedTemplate, 'locale'>;

/**
 * The built-in message of a channel, for the delivery pipeline: renderTemplate without an
 * override. `renderMessage('sms', 'en', { code, appName, ttlSeconds })` →
 * `{ text: 'Your Acme code is 482913. It expires in 10 minutes. Never share it with anyone.' }`.
 */
export function renderMessage(channel: TemplateChannel, locale: string, values: MessageValues): RenderedMessage {
  const { purpose, defaultLocale, now, timeZone, override, ...templateValues } = values;
  const { locale: _chosen, ...message } = renderTemplate({ channel, purpose, locale, defaultLocale, now, timeZone: timeZone ?? 'UTC', values: templateValues, override });
  return message;
}

interface Context {
  input: RenderInput;
  purpose: Purpose;
  /** Dates, times and durations are formatted in this tag ("en-GB" for a request in en-GB). */
  formatLocale: string;
}

/** A placeholder value that goes into SSML as markup; every other value there is text. */
interface SsmlFragment {
  ssml: string;
}

type Value = string | number;

/** Plain text; in 'speech' the code is read digit by digit. */
function renderText(source: string, context: Context, mode: 'plain' | 'speech' = 'plain'): string {
  const format = compiled(source, context.formatLocale);
  const values = valuesFor(format, context, (name, value) => (name === 'code' && mode === 'speech' ? spokenCode(String(value)) : value));
  return String(format.format(values));
}

/** HTML: the template is markup, the values are text and are escaped. */
function renderHtml(source: string, context: Context): string {
  const format = compiled(source, context.formatLocale);
  return String(format.format(valuesFor(format, context, (_name, value) => (typeof value === 'string' ? escapeHtml(value) : value))));
}

/** SSML body: the template and the values are text and are escaped, the code is markup. */
function renderSsml(source: string, context: Context): string {
  const format = compiled(source, context.formatLocale);
  const values = valuesFor<Value | SsmlFragment>(format, context, (name, value) => (name === 'code' ? { ssml: ssmlCode(String(value)) } : value));
  return format
    .formatToParts<SsmlFragment>(values)
    .map((part) => (typeof part.value === 'string' ? xmlEscape(part.value) : part.value.ssml))
    .join('');
}

/**
 * The values of the placeholders a template uses, each passed through `shape`. Throws when the
 * template uses one that cannot be filled: a param the request did not pass, {code} without a
 * code, {expires_at} without `now`.
 */
function valuesFor<T = Value>(format: IntlMessageFormat, context: Context, shape: (name: string, value: Value) => T): Record<string, T> {
  const values: Record<string, T> = {};
  const missing: string[] = [];
  for (const name of usedNames(format)) {
    const value = placeholderValue(name, context);
    if (value === undefined) missing.push(`{${name}}`);
    else values[name] = shape(name, value);
  }
  if (missing.length > 0) throw new Error(`the template uses ${missing.join(', ')}, which ${missing.length === 1 ? 'has' : 'have'} no value here`);
  return values;
}

function placeholderValue(name: string, context: Context): Value | undefined {
  const { values, now, timeZone } = context.input;
  switch (name) {
    case 'code':
      return values.code;
    case 'app_name':
      return values.appName;
    case 'purpose':
      return context.purpose;
    case 'expires_in':
      return formatDuration(values.ttlSeconds, context.formatLocale);
    case 'expires_at':
      if (now === undefined) return undefined;
      return formatExpiresAt(values.expiresAt ?? now + values.ttlSeconds * 1000, { now, timeZone, locale: context.formatLocale });
  }
  if (isKnownPlaceholder(name) || !PARAM_NAME.test(name) || values.params === undefined || !Object.hasOwn(values.params, name)) return undefined;
  return values.params[name];
}

// Parsing a template costs far more than formatting it. Built-in templates are few; an
// application's own are bounded by the cap, past which the cache starts over.
const CACHE_CAP = 1000;
const cache = new Map<string, IntlMessageFormat>();
const names = new WeakMap<IntlMessageFormat, readonly string[]>();

function compiled(source: string, locale: string): IntlMessageFormat {
  const key = `${locale}\u0000${source}`;
  let format = cache.get(key);
  if (format === undefined) {
    if (cache.size >= CACHE_CAP) cache.clear();
    format = parseTemplate(source, locale);
    cache.set(key, format);
  }
  return format;
}

function usedNames(format: IntlMessageFormat): readonly string[] {
  let used = names.get(format);
  if (used === undefined) {
    used = [...new Set(placeholderUses(format).map((use) => use.name))];
    names.set(format, used);
  }
  return used;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

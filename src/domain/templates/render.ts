import { IntlMessageFormat } from 'intl-messageformat';
import type { Channel } from '../application.ts';
import { BUILT_IN_TEMPLATES, FALLBACK_LOCALE, type ChannelTemplate } from './catalog.ts';

export interface MessageValues {
  code: string;
  appName: string;
  ttlSeconds: number;
}

export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
}

/** The best built-in locale for a tag: nl-BE → nl → en. */
export function templateLocale(locale: string): string {
  const parts = locale.split('-');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('-');
    if (BUILT_IN_TEMPLATES[candidate] !== undefined) return candidate;
  }
  return FALLBACK_LOCALE;
}

/** "10 minutes", "1 hour, 30 minutes", in the message's locale. */
export function formatDuration(seconds: number, locale: string): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const duration: Partial<Record<Intl.DurationFormatUnit, number>> = {};
  if (hours > 0) duration.hours = hours;
  if (minutes > 0) duration.minutes = minutes;
  if (rest > 0 || (hours === 0 && minutes === 0)) duration.seconds = rest;
  return new Intl.DurationFormat(locale, { style: 'long' }).format(duration);
}

export function renderMessage(channel: Channel, locale: string, values: MessageValues): RenderedMessage {
  const chosen = templateLocale(locale);
  const template: ChannelTemplate | undefined = BUILT_IN_TEMPLATES[chosen]?.[channel];
  if (template === undefined) throw new Error(`no built-in ${channel} template for ${chosen}`);
  const plain = { code: values.code, app_name: values.appName, expires_in: formatDuration(values.ttlSeconds, chosen) };
  const format = (source: string, vars: Record<string, string>) => String(compiled(source, chosen).format(vars));
  const message: RenderedMessage = { text: format(template.text, plain) };
  if (template.subject !== undefined) message.subject = format(template.subject, plain);
  if (template.html !== undefined) {
    const escaped = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, escapeHtml(v)]));
    message.html = format(template.html, escaped);
  }
  return message;
}

// Parsing a template costs far more than formatting it; the built-in set is small and fixed.
const cache = new Map<string, IntlMessageFormat>();
function compiled(source: string, locale: string): IntlMessageFormat {
  const key = `${locale}\u0000${source}`;
  let format = cache.get(key);
  if (format === undefined) {
    // ignoreTag: HTML bodies are plain text to the formatter, not ICU rich-text tags.
    format = new IntlMessageFormat(source, locale, undefined, { ignoreTag: true });
    cache.set(key, format);
  }
  return format;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

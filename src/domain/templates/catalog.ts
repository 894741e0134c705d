import type { Channel } from '../application.ts';

/**
 * The built-in message templates, ICU MessageFormat. All templates live here so that the
 * i18n work of a later issue has one place to grow from (per locale, per purpose, per application).
 * Placeholders: {code}, {app_name}, {expires_in}.
 */
export interface ChannelTemplate {
  subject?: string;
  text: string;
  /** HTML body; placeholder values are escaped before they are put in. */
  html?: string;
}

export const BUILT_IN_TEMPLATES: Record<string, Record<Channel, ChannelTemplate>> = {
  en: {
    sms: { text: 'Your {app_name} code is {code}. It expires in {expires_in}. Never share it with anyone.' },
    email: {
      subject: 'Your {app_name} verification code',
      text: 'Your {app_name} verification code is {code}.\n\nIt expires in {expires_in}. If you did not ask for it, you can ignore this e-mail; never share the code with anyone.\n',
      html: '<!doctype html><html><body style="font-family:sans-serif"><p>Your {app_name} verification code is</p><p style="font-size:28px;font-weight:bold;letter-spacing:4px">{code}</p><p>It expires in {expires_in}. If you did not ask for it, you can ignore this e-mail; never share the code with anyone.</p></body></html>',
    },
  },
};

export const FALLBACK_LOCALE = 'en';

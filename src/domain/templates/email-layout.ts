import type { ChannelTemplate } from './catalog.ts';

/**
 * The sentences of a code e-mail, ICU with placeholders. The layout around them is the same in
 * every language, so a translator reviews only words.
 */
export interface EmailWording {
  /** Never holds {code}: subjects show in lock screens and inbox lists. */
  subject: string;
  /** The plain-text part's first line, with the code in it: "Your {app_name} verification code is {code}." */
  codeLine: string;
  /** The HTML part's line above the code, which is shown large below it. */
  codeLabel: string;
  /** "It expires in {expires_in}." */
  expiry: string;
  /** What to do if the mail was not expected, and never to share the code. */
  notice: string;
}

// Table layout and inline styles: the HTML that mail clients (Outlook included) render alike.
const FONT = 'font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#1f2328';
const MONO = 'font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace';

/** A code e-mail in `lang` (the html `lang` attribute): plain text and a minimal HTML part with the code large. */
export function emailTemplate(lang: string, wording: EmailWording): ChannelTemplate {
  const text = `${wording.codeLine}\n\n${wording.expiry}\n\n${wording.notice}\n`;
  const html = [
    '<!doctype html>',
    `<html lang="${lang}">`,
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${htmlText(wording.subject)}</title></head>`,
    '<body style="margin:0;padding:0;background-color:#f4f5f7">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f5f7"><tr><td align="center" style="padding:32px 16px">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:480px;background-color:#ffffff;border-radius:8px">',
    `<tr><td style="padding:32px;${FONT}">`,
    `<p style="margin:0 0 8px">${htmlText(wording.codeLabel)}</p>`,
    `<p style="margin:0 0 24px;${MONO};font-size:32px;line-height:40px;font-weight:700;letter-spacing:6px">{code}</p>`,
    `<p style="margin:0 0 16px">${htmlText(wording.expiry)}</p>`,
    `<p style="margin:0;font-size:14px;line-height:20px;color:#59636e">${htmlText(wording.notice)}</p>`,
    '</td></tr></table>',
    '</td></tr></table>',
    '</body>',
    '</html>',
  ].join('\n');
  return { subject: wording.subject, text, html };
}

/** The wording as HTML text. Braces and apostrophes stay: they are ICU syntax, read before the HTML is. */
function htmlText(wording: string): string {
  return wording.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

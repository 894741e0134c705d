import { Type, type Static } from 'typebox';
import { TTL_SECONDS } from '../../domain/policy/limits.ts';
import { PURPOSES, TEMPLATE_CHANNELS, type TemplateChannel } from '../../domain/templates/catalog.ts';
import { PARAM_NAME } from '../../domain/templates/placeholders.ts';
import type { StoredTemplate } from '../../store/store.ts';
import type { Effective, TemplatePreview } from '../../services/templates.ts';
import { NullableString } from './common.ts';

type TemplatePurpose = (typeof PURPOSES)[number];

const channel = Type.Enum(TEMPLATE_CHANNELS, { description: 'The channel whose message this is: sms, email, voice (the words spoken on a call) or push' });
const purpose = Type.Enum(PURPOSES, { description: 'What the verification is for; the authentication template stands in for a purpose without its own' });
const locale = Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 language tag the template is written in, e.g. "nl" or "nl-BE"; stored in canonical case' });

// Loose caps: validation names a field that is too long for its channel with 422 invalid_template.
const fieldText = {
  subject: 'E-mail only: the subject line; must not hold {code}',
  title: 'Push only: the notification title; must not hold {code}',
  text: 'ICU MessageFormat: the SMS, the words spoken on a call, the plain-text part of an e-mail, or the push body. Placeholders: {code}, {app_name}, {expires_in}, {expires_at}, {purpose, select, …} and request parameters by name',
  html: 'E-mail only: the HTML part, ICU MessageFormat; placeholder values are HTML-escaped',
};
const inputFields = {
  subject: Type.Optional(NullableString({ description: fieldText.subject, maxLength: 1_000 })),
  title: Type.Optional(NullableString({ description: fieldText.title, maxLength: 1_000 })),
  text: Type.String({ maxLength: 20_000, description: fieldText.text }),
  html: Type.Optional(NullableString({ description: fieldText.html, maxLength: 100_000 })),
};

export const TemplateBody = Type.Object(inputFields, {
  additionalProperties: false,
  description: 'The whole template: a field left out (or null) is not part of it. The fields a channel takes: sms and voice text; email subject, text and optionally html; push title and text',
});

export const TemplateParams = Type.Object({
  channel,
  purpose,
  locale: Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 language tag, e.g. "nl-BE"; matched in canonical case' }),
});

export const TemplateListQuery = Type.Object(
  { channel: Type.Optional(Type.Enum(TEMPLATE_CHANNELS, { description: 'Only the templates of this channel' })) },
  { additionalProperties: false },
);

export const TemplateGetQuery = Type.Object(
  {
    effective: Type.Optional(
      Type.Boolean({
        description:
          "true: answer the template a message would use (the application's own or the built-in one) along the locale chain requested tag → its prefixes → the application's default locale → en, with `source` and the locale found; never 404",
      }),
    ),
  },
  { additionalProperties: false },
);

export const TemplateView = Type.Object({
  channel,
  purpose: Type.Enum(PURPOSES, { description: "The template's purpose; with effective=true, authentication when it stands in for the purpose asked" }),
  locale,
  source: Type.Union([Type.Literal('application'), Type.Literal('built_in')], { description: "application: the application's own template; built_in: Outband's (only with effective=true)" }),
  subject: NullableString({ description: fieldText.subject }),
  title: NullableString({ description: fieldText.title }),
  text: Type.String({ description: fieldText.text }),
  html: NullableString({ description: fieldText.html }),
  updated_at: Type.Union([Type.Null(), Type.String({ format: 'date-time' })], { description: 'When the application last saved it; null for a built-in template' }),
});

export const TemplateList = Type.Object({ items: Type.Array(TemplateView, { description: "The application's own templates, by channel, purpose and locale" }) });

export const PreviewBody = Type.Object(
  {
    channel,
    purpose: Type.Optional(Type.Enum(PURPOSES, { description: 'What the verification is for; default authentication' })),
    locale: Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 language tag of the message, e.g. "nl-BE": a draft is rendered in it; without a draft it picks the template along the locale chain' }),
    template: Type.Optional(Type.Object(inputFields, { additionalProperties: false, description: 'A draft to render, validated as when saved; default the template the application would use' })),
    params: Type.Optional(
      Type.Record(Type.String({ pattern: PARAM_NAME.source }), Type.String({ maxLength: 200 }), {
        maxProperties: 20,
        // Without this, a key that does not match the pattern would be let through.
        additionalProperties: false,
        description: 'Template parameters by name; a parameter the template uses but is not given is rendered as its name in capitals, or as 1 where the template counts it ({n, plural, …})',
      }),
    ),
    code: Type.Optional(Type.String({ pattern: '^[0-9]{4,10}$', description: 'The code to show; default 123456' })),
    ttl_seconds: Type.Optional(
      Type.Integer({ minimum: TTL_SECONDS.min, maximum: TTL_SECONDS.max, description: "The code's lifetime said by {expires_in} and {expires_at}; default the application's" }),
    ),
  },
  { additionalProperties: false },
);

export const PreviewView = Type.Object({
  source: Type.Union([Type.Literal('draft'), Type.Literal('application'), Type.Literal('built_in')], {
    description: "What was rendered: the draft given, the application's own template, or Outband's built-in one",
  }),
  locale: Type.String({ description: 'The locale of the template rendered: "nl" for a request in "nl-BE" served by a Dutch template' }),
  subject: Type.Optional(Type.String({ description: 'email: the subject' })),
  title: Type.Optional(Type.String({ description: 'push: the title' })),
  text: Type.String({ description: 'The SMS, the e-mail text part, the push body, or the plain speech of a call' }),
  html: Type.Optional(Type.String({ description: 'email: the HTML part' })),
  ssml: Type.Optional(Type.String({ description: 'voice: the speech as an SSML document' })),
  voice_language: Type.Optional(Type.String({ description: 'voice: the BCP 47 language spoken, e.g. "nl-NL"' })),
  sms: Type.Optional(
    Type.Object(
      {
        encoding: Type.Union([Type.Literal('gsm7'), Type.Literal('ucs2')], { description: 'gsm7 when every character is in the GSM 7-bit alphabet (160 per SMS), else ucs2 (70 per SMS)' }),
        units: Type.Integer({ description: 'Septets for gsm7 (an extension character such as € counts 2), UTF-16 code units for ucs2' }),
        segments: Type.Integer({ description: 'How many SMS the text takes: 1, or the parts of a concatenated SMS (153 or 67 units each)' }),
      },
      { description: 'sms: how the text is carried' },
    ),
  ),
  sample_params: Type.Array(Type.String(), { description: 'Parameters the template uses that the request did not give; each was rendered as its name in capitals, or as 1 where counted' }),
});

// Stored channels and purposes were checked against these lists when saved.
export function templateView(t: StoredTemplate): Static<typeof TemplateView> {
  return {
    channel: t.channel as TemplateChannel,
    purpose: t.purpose as TemplatePurpose,
    locale: t.locale,
    source: 'application',
    subject: t.subject,
    title: t.title,
    text: t.text,
    html: t.html,
    updated_at: new Date(t.updatedAt).toISOString(),
  };
}

export function effectiveView(channelName: TemplateChannel, e: Effective): Static<typeof TemplateView> {
  // The purpose found: the one asked for, or authentication standing in for it.
  const found = e.purpose as TemplatePurpose;
  if (e.source === 'application') return { ...templateView(e.own.stored), purpose: found };
  return {
    channel: channelName,
    purpose: found,
    locale: e.locale,
    source: e.source,
    subject: e.template.subject ?? null,
    title: e.template.title ?? null,
    text: e.template.text,
    html: e.template.html ?? null,
    updated_at: null,
  };
}

export function previewView(p: TemplatePreview): Static<typeof PreviewView> {
  const { rendered } = p;
  return {
    source: p.source,
    locale: rendered.locale,
    ...(rendered.subject === undefined ? {} : { subject: rendered.subject }),
    ...(rendered.title === undefined ? {} : { title: rendered.title }),
    text: rendered.text,
    ...(rendered.html === undefined ? {} : { html: rendered.html }),
    ...(rendered.ssml === undefined ? {} : { ssml: rendered.ssml }),
    ...(rendered.voiceLanguage === undefined ? {} : { voice_language: rendered.voiceLanguage }),
    ...(p.sms === undefined ? {} : { sms: { encoding: p.sms.encoding, units: p.sms.units, segments: p.sms.segments } }),
    sample_params: p.sampleParams,
  };
}

import { parseLocale } from '../domain/address/locale.ts';
import type { Application } from '../domain/application.ts';
import { OutbandError } from '../domain/errors.ts';
import { analyzeSms, type SmsAnalysis } from '../domain/sms/encoding.ts';
import { DEFAULT_PURPOSE, type ChannelTemplate, type TemplateChannel } from '../domain/templates/catalog.ts';
import { effectiveTemplate, type EffectiveTemplate } from '../domain/templates/effective.ts';
import { isKnownPlaceholder, parseTemplate, placeholderUses } from '../domain/templates/placeholders.ts';
import { renderTemplate, type RenderedTemplate } from '../domain/templates/render.ts';
import { validateTemplate, type TemplateProblem } from '../domain/templates/validate.ts';
import type { Purpose } from '../domain/verification/verification.ts';
import type { StoredTemplate } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';
import { actorOf, type Principal } from './tokens.ts';

/** Which template: the path of `/v1/templates/{channel}/{purpose}/{locale}`; the locale as given. */
export interface TemplateKey {
  channel: TemplateChannel;
  purpose: Purpose;
  locale: string;
}

/** A template's fields as a caller sends them; null is the same as absent. */
export interface TemplateInput {
  subject?: string | null | undefined;
  title?: string | null | undefined;
  text: string;
  html?: string | null | undefined;
}

export interface PreviewInput {
  channel: TemplateChannel;
  purpose?: Purpose | undefined;
  locale: string;
  /** A draft to render; absent, the template the application would use. */
  template?: TemplateInput | undefined;
  params?: Readonly<Record<string, string>> | undefined;
  code?: string | undefined;
  ttlSeconds?: number | undefined;
}

/** The template that would be used, with where it comes from; `stored` for the application's own. */
export type Effective = EffectiveTemplate<{ purpose: string; locale: string; template: ChannelTemplate; stored: StoredTemplate }>;

export interface TemplatePreview {
  source: 'draft' | 'application' | 'built_in';
  rendered: RenderedTemplate;
  /** SMS only: how the text is carried. */
  sms?: SmsAnalysis;
  /** Parameters the template uses that the request did not give, rendered with a sample (see sampleParams). */
  sampleParams: string[];
}

/** The code a preview shows unless the request gives one. */
export const SAMPLE_CODE = '123456';

// Applications have no time zone setting yet: a preview says {expires_at} in UTC.
const PREVIEW_TIME_ZONE = 'UTC';

function channelTemplate(input: TemplateInput): ChannelTemplate {
  const template: ChannelTemplate = { text: input.text };
  if (input.subject != null) template.subject = input.subject;
  if (input.title != null) template.title = input.title;
  if (input.html != null) template.html = input.html;
  return template;
}

function storedToTemplate(t: StoredTemplate): ChannelTemplate {
  return channelTemplate({ subject: t.subject, title: t.title, text: t.text, html: t.html });
}

/** Refuses a template that breaks a rule, listing every problem (422 invalid_template). */
function assertValid(channel: TemplateChannel, template: ChannelTemplate): void {
  const problems = validateTemplate(channel, template);
  if (problems.length > 0) throw invalidTemplate(channel, problems);
}

function invalidTemplate(channel: TemplateChannel, problems: readonly TemplateProblem[]): OutbandError {
  const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
  return new OutbandError('invalid_template', `the ${channel} template has ${count}: ${problems.map((p) => p.message).join('; ')}`, { problems });
}

/**
 * A sample of each request parameter a template uses (every placeholder that is not one of
 * Outband's own): its name in capitals, or 1 where the template counts it ({n, plural, …}).
 */
function sampleParams(template: ChannelTemplate): Map<string, string | number> {
  const samples = new Map<string, string | number>();
  for (const source of [template.subject, template.title, template.text, template.html]) {
    if (source === undefined) continue;
    for (const { name, kind } of placeholderUses(parseTemplate(source, 'en'))) {
      if (isKnownPlaceholder(name) || samples.has(name)) continue;
      samples.set(name, kind === 'number' || kind === 'plural' ? 1 : name.toUpperCase());
    }
  }
  return samples;
}

/**
 * An application's own message templates, per channel × purpose × locale: read, saved (only
 * when valid), deleted and previewed; and `resolve`, which picks the one a message uses.
 */
export function createTemplateService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random'>) {

  async function application(applicationId: string): Promise<Application> {
    const app = await deps.store.applications.byId(applicationId);
    if (app === undefined) throw new Error(`application ${applicationId} of a valid token does not exist`);
    return app;
  }

  async function find(applicationId: string, key: TemplateKey): Promise<StoredTemplate | undefined> {
    const locale = parseLocale(key.locale);
    return (await deps.store.templates.list(applicationId, key.channel)).find((t) => t.purpose === key.purpose && t.locale === locale);
  }

  async function effective(applicationId: string, channel: TemplateChannel, purpose: Purpose, locale: string, defaultLocale: string | undefined): Promise<Effective> {
    const own = (await deps.store.templates.list(applicationId, channel)).map((stored) => ({
      purpose: stored.purpose,
      locale: stored.locale,
      template: storedToTemplate(stored),
      stored,
    }));
    return effectiveTemplate(own, channel, purpose, locale, defaultLocale);
  }

  function templateEvent(principal: Principal, type: 'template.updated' | 'template.deleted', key: TemplateKey) {
    return eventWrite(deps.random, {
      applicationId: principal.applicationId,
      type,
      subjectType: 'application',
      subjectId: principal.applicationId,
      actor: actorOf(principal),
      data: { channel: key.channel, purpose: key.purpose, locale: key.locale },
      createdAt: deps.clock.now(),
    });
  }

  return {
    /** The application's own templates, by channel, purpose and locale; optionally of one channel. */
    async list(principal: Principal, channel?: TemplateChannel): Promise<StoredTemplate[]> {
      return deps.store.templates.list(principal.applicationId, channel);
    },

    /** The application's own template for exactly this key; 404 template_not_found. */
    async get(principal: Principal, key: TemplateKey): Promise<StoredTemplate> {
      const found = await find(principal.applicationId, key);
      if (found === undefined) throw new OutbandError('template_not_found', `the application has no ${key.channel} template of its own for ${key.purpose} in ${parseLocale(key.locale)}`);
      return found;
    },

    /** The template a message for this key would be written from: the application's own or the built-in one. */
    async effective(principal: Principal, key: TemplateKey): Promise<Effective> {
      const app = await application(principal.applicationId);
      return effective(app.id, key.channel, key.purpose, parseLocale(key.locale), app.settings.defaultLocale);
    },

    /** Creates or replaces the application's own template, when it is valid (422 invalid_template). */
    async put(principal: Principal, key: TemplateKey, input: TemplateInput): Promise<StoredTemplate> {
      const locale = parseLocale(key.locale);
      const template = channelTemplate(input);
      assertValid(key.channel, template);
      const stored: StoredTemplate = {
        applicationId: principal.applicationId,
        channel: key.channel,
        purpose: key.purpose,
        locale,
        subject: template.subject ?? null,
        title: template.title ?? null,
        text: template.text,
        html: template.html ?? null,
        updatedAt: deps.clock.now(),
      };
      const result = await deps.store.commit({
        writes: [{ kind: 'template.put', template: stored }, templateEvent(principal, 'template.updated', { ...key, locale })],
      });
      if (!result.ok) throw new OutbandError('concurrent_update', 'the template changed while it was saved');
      return stored;
    },

    /** Deletes the application's own template; messages fall back to the next in the chain. */
    async remove(principal: Principal, key: TemplateKey): Promise<void> {
      const locale = parseLocale(key.locale);
      const result = await deps.store.commit({
        writes: [
          { kind: 'template.delete', applicationId: principal.applicationId, channel: key.channel, purpose: key.purpose, locale },
          templateEvent(principal, 'template.deleted', { ...key, locale }),
        ],
      });
      if (!result.ok) throw new OutbandError('template_not_found', `the application has no ${key.channel} template of its own for ${key.purpose} in ${locale}`);
    },

    /**
     * Renders a draft, or the template the application would use, with sample values where the
     * request gives none: code 123456, the application's TTL, and each parameter as its name in
     * capitals (1 where the template counts it). For SMS, also how the text is carried (GSM-7 or UCS-2, and in how many parts).
     */
    async preview(principal: Principal, input: PreviewInput): Promise<TemplatePreview> {
      const app = await application(principal.applicationId);
      const locale = parseLocale(input.locale);
      const purpose = input.purpose ?? DEFAULT_PURPOSE;
      let source: TemplatePreview['source'];
      let override: { locale: string; template: ChannelTemplate };
      if (input.template !== undefined) {
        const draft = channelTemplate(input.template);
        assertValid(input.channel, draft);
        source = 'draft';
        override = { locale, template: draft };
      } else {
        const found = await effective(app.id, input.channel, purpose, locale, app.settings.defaultLocale);
        source = found.source;
        override = { locale: found.locale, template: found.template };
      }

      const given = input.params ?? {};
      const samples = [...sampleParams(override.template)].filter(([name]) => !Object.hasOwn(given, name));
      const params: Record<string, string | number> = { ...given, ...Object.fromEntries(samples) };
      let rendered: RenderedTemplate;
      try {
        rendered = renderTemplate({
          channel: input.channel,
          purpose,
          locale,
          defaultLocale: app.settings.defaultLocale,
          now: deps.clock.now(),
          timeZone: PREVIEW_TIME_ZONE,
          values: { code: input.code ?? SAMPLE_CODE, appName: app.name, ttlSeconds: input.ttlSeconds ?? app.settings.ttlSeconds, params },
          override,
        });
      } catch (error) {
        // A valid template that these values cannot fill; the formatter's message is about the template.
        throw new OutbandError('invalid_template', `the template cannot be rendered with these values: ${(error as Error).message}`, { problems: [] });
      }
      const preview: TemplatePreview = { source, rendered, sampleParams: samples.map(([name]) => name) };
      if (input.channel === 'sms') preview.sms = analyzeSms(rendered.text);
      return preview;
    },

    /**
     * The application's own template a message should be written from, with its locale, to pass
     * to renderTemplate as `override`; null when the built-in template is the one to use (then
     * renderTemplate, given the same locale and default, picks the same built-in one).
     *
     * The locale chain is the requested tag and its prefixes, the application's default and its
     * prefixes, then en (nl-BE → nl → default → en). At each locale: the own template for the
     * purpose, else the built-in one for the purpose, else the own `authentication` template,
     * else the built-in `authentication` one (see effectiveTemplate for why).
     *
     * @example
     * const own = await templates.resolve(app.id, 'sms', 'authentication', 'nl-BE', app.settings.defaultLocale);
     * renderTemplate({ channel: 'sms', locale: 'nl-BE', defaultLocale, timeZone, values, override: own ?? undefined });
     */
    async resolve(applicationId: string, channel: TemplateChannel, purpose: Purpose, locale: string, defaultLocale: string | undefined): Promise<{ locale: string; template: ChannelTemplate } | null> {
      const found = await effective(applicationId, channel, purpose, locale, defaultLocale);
      return found.source === 'application' ? { locale: found.locale, template: found.template } : null;
    },
  };
}

export type TemplateService = ReturnType<typeof createTemplateService>;

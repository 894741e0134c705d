import { h, replace } from '../../shared/dom.ts';
import { api, ApiError, appPath } from '../api.ts';
import { t, type PageContext } from '../context.ts';
import { errorText } from '../errors.ts';

type Json = Record<string, unknown>;
interface SettingsView {
  channels: Record<string, { enabled: boolean; provider: string | null }>;
  ttl_seconds: number;
  max_ttl_seconds: number;
  max_attempts: number;
  code_length: number;
  max_devices: number;
  default_locale: string;
  push: { user_verification: string; matching: string };
  allowed_countries: Record<string, string[] | null>;
  usage_limits: Record<string, { used: number; unused: number } | undefined>;
}

const CHANNELS = ['sms', 'email', 'voice', 'missed_call', 'push'];
const LIMITED = ['sms', 'email', 'voice', 'push'];
const NUMBERS = ['ttl_seconds', 'max_ttl_seconds', 'max_attempts', 'code_length', 'max_devices'] as const;

/**
 * Admin: a form over GET/PATCH settings (a subset: channels, code and TTL, devices, push defaults,
 * per-user limits, countries). Only what changed is sent; a 422 invalid_setting is shown next
 * to the field it names.
 */
export function settingsPage(ctx: PageContext): HTMLElement {
  const app = ctx.app!;
  ctx.title(t('settings.title'));
  const body = h('div', {}, h('p', { role: 'status' }, t('loading')));
  void load();
  return h('section', { class: 'settings' }, h('h1', {}, t('settings.title')), h('p', { class: 'muted' }, t('settings.intro', { app: app.name })), body);

  async function load(): Promise<void> {
    try {
      replace(body, form(await api<SettingsView>('GET', `${appPath(app.id)}/settings`)));
    } catch (error) {
      replace(body, h('p', { role: 'alert', class: 'form-error' }, errorText(error)));
    }
  }

  function form(view: SettingsView): HTMLElement {
    const errors = new Map<string, { input: HTMLElement; error: HTMLElement }>();
    const idOf = (path: string) => `setting-${path.replace(/\./g, '-')}`;
    const field = (path: string, label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string) => {
      const id = idOf(path);
      input.id = id;
      const error = h('p', { id: `${id}-error`, class: 'field-error' });
      input.setAttribute('aria-describedby', [hint !== undefined ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
      errors.set(path, { input, error });
      return h('div', { class: 'field', 'data-field': path }, h('label', { for: id }, label), hint !== undefined && h('p', { id: `${id}-hint`, class: 'hint' }, hint), input, error);
    };
    const number = (value: number | undefined | null) => h('input', { type: 'number', inputmode: 'numeric', min: '0', step: '1', value: value ?? '' });
    const select = (value: string, options: string[], prefix: string) => h('select', {}, options.map((o) => h('option', { value: o, selected: o === value }, t(`${prefix}.${o}`))));

    const channelBoxes = CHANNELS.map((c) => {
      const box = h('input', { type: 'checkbox', id: idOf(`channels.${c}`), checked: view.channels[c]?.enabled === true });
      const error = h('p', { id: `${idOf(`channels.${c}`)}-error`, class: 'field-error' });
      box.setAttribute('aria-describedby', error.id);
      errors.set(`channels.${c}`, { input: box, error });
      const provider = view.channels[c]?.provider;
      return {
        c,
        box,
        el: h('div', { class: 'check', 'data-field': `channels.${c}` }, box, h('label', { for: box.id }, t(`kind.${c}`), provider !== null && provider !== undefined && h('span', { class: 'muted' }, ` (${provider})`)), error),
      };
    });
    const numbers = Object.fromEntries(NUMBERS.map((k) => [k, number(view[k])])) as Record<(typeof NUMBERS)[number], HTMLInputElement>;
    const locale = h('input', { type: 'text', value: view.default_locale, autocomplete: 'off', spellcheck: 'false' });
    const uv = select(view.push.user_verification, ['required', 'preferred'], 'uv');
    const matching = select(view.push.matching, ['none', 'pick', 'type', 'read_back'], 'matching');
    const limits = LIMITED.map((c) => ({ c, used: number(view.usage_limits[c]?.used), unused: number(view.usage_limits[c]?.unused) }));
    const countries = ['sms', 'voice'].map((c) => ({ c, input: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: (view.allowed_countries[c] ?? []).join(', ') }) }));

    const message = h('p', { class: 'form-error', role: 'alert' });
    const saved = h('p', { class: 'notice success', role: 'status', hidden: true });

    function patch(): Json {
      const p: Json = {};
      const channels: Json = {};
      for (const { c, box } of channelBoxes) if (box.checked !== (view.channels[c]?.enabled === true)) channels[c] = { enabled: box.checked };
      if (Object.keys(channels).length > 0) p['channels'] = channels;
      for (const k of NUMBERS) {
        const v = numbers[k].value.trim();
        if (v !== String(view[k])) p[k] = v === '' ? null : Number(v);
      }
      if (locale.value.trim() !== view.default_locale) p['default_locale'] = locale.value.trim();
      const push: Json = {};
      if (uv.value !== view.push.user_verification) push['user_verification'] = uv.value;
      if (matching.value !== view.push.matching) push['matching'] = matching.value;
      if (Object.keys(push).length > 0) p['push'] = push;
      const usage: Json = {};
      for (const { c, used, unused } of limits) {
        const was = view.usage_limits[c];
        const u = used.value.trim();
        const n = unused.value.trim();
        if (u === '' && n === '') {
          if (was !== undefined) usage[c] = null;
        } else if (u !== String(was?.used ?? '') || n !== String(was?.unused ?? '')) {
          const limit: Json = {};
          if (u !== '') limit['used'] = Number(u);
          if (n !== '') limit['unused'] = Number(n);
          usage[c] = limit;
        }
      }
      if (Object.keys(usage).length > 0) p['usage_limits'] = usage;
      const allowed: Json = {};
      for (const { c, input } of countries) {
        const list = input.value
          .split(/[\s,;]+/)
          .map((x) => x.trim().toUpperCase())
          .filter(Boolean);
        const was = view.allowed_countries[c] ?? null;
        const next = list.length === 0 ? null : list;
        if (JSON.stringify(next) !== JSON.stringify(was)) allowed[c] = next;
      }
      if (Object.keys(allowed).length > 0) p['allowed_countries'] = allowed;
      return p;
    }

    function clearErrors(): void {
      for (const { input, error } of errors.values()) {
        error.textContent = '';
        input.removeAttribute('aria-invalid');
      }
      message.textContent = '';
      saved.hidden = true;
    }

    /** The input a server's `field` names, or the closest one above it (usage_limits.sms → its "used"). */
    function inputFor(path: string): { input: HTMLElement; error: HTMLElement } | undefined {
      for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
        const found = errors.get(p) ?? [...errors.entries()].find(([k]) => k.startsWith(`${p}.`))?.[1];
        if (found !== undefined) return found;
      }
      return undefined;
    }

    const formEl = h(
      'form',
      {
        novalidate: true,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          clearErrors();
          const changes = patch();
          if (Object.keys(changes).length === 0) {
            saved.hidden = false;
            saved.textContent = t('settings.nothing');
            return;
          }
          try {
            const next = await api<SettingsView>('PATCH', `${appPath(app.id)}/settings`, changes);
            replace(body, form(next));
            const notice = body.querySelector<HTMLElement>('.notice');
            if (notice !== null) {
              notice.hidden = false;
              notice.textContent = t('settings.saved');
            }
          } catch (error) {
            const fieldName = error instanceof ApiError ? error.problem['field'] : undefined;
            const target = typeof fieldName === 'string' ? inputFor(fieldName) : undefined;
            if (target !== undefined) {
              target.error.textContent = errorText(error);
              target.input.setAttribute('aria-invalid', 'true');
              target.input.focus();
              message.textContent = t('settings.notSaved');
            } else message.textContent = errorText(error);
          }
        },
      },
      h('fieldset', {}, h('legend', {}, t('settings.channels')), channelBoxes.map((b) => b.el)),
      h(
        'fieldset',
        {},
        h('legend', {}, t('settings.codes')),
        h(
          'div',
          { class: 'grid' },
          field('ttl_seconds', t('settings.ttl'), numbers.ttl_seconds, t('settings.seconds')),
          field('max_ttl_seconds', t('settings.maxTtl'), numbers.max_ttl_seconds, t('settings.seconds')),
          field('max_attempts', t('settings.attempts'), numbers.max_attempts),
          field('code_length', t('settings.codeLength'), numbers.code_length, t('settings.digits')),
          field('max_devices', t('settings.maxDevices'), numbers.max_devices),
          field('default_locale', t('settings.locale'), locale, t('settings.localeHint')),
        ),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, t('settings.push')),
        h('div', { class: 'grid' }, field('push.user_verification', t('settings.uv'), uv), field('push.matching', t('settings.matching'), matching)),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, t('settings.limits')),
        h('p', { class: 'hint' }, t('settings.limitsHint')),
        h(
          'div',
          { class: 'grid' },
          limits.map(({ c, used, unused }) => [
            field(`usage_limits.${c}.used`, t('settings.limitUsed', { channel: t(`kind.${c}`) }), used),
            field(`usage_limits.${c}.unused`, t('settings.limitUnused', { channel: t(`kind.${c}`) }), unused),
          ]).flat(),
        ),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, t('settings.countries')),
        h('div', { class: 'grid' }, countries.map(({ c, input }) => field(`allowed_countries.${c}`, t('settings.countriesFor', { channel: t(`kind.${c}`) }), input, t('settings.countriesHint')))),
      ),
      message,
      saved,
      h('button', { type: 'submit' }, t('save')),
    );
    return formEl;
  }
}

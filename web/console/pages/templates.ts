import { h, replace } from '../../shared/dom.ts';
import { api, ApiError, appPath } from '../api.ts';
import { t, type PageContext } from '../context.ts';
import { errorText } from '../errors.ts';
import { dateTime } from '../format.ts';

interface Template {
  locale: string;
  text: string;
  subject?: string | null;
  updated_at?: string | null;
}

const CHANNELS = ['sms', 'email'] as const;
const PURPOSES = ['authentication', 'caller_verification'] as const;

/**
 * Admin: the verification message per locale, for SMS and e-mail, for sign-in codes and caller
 * verification. A 422 invalid_template lists each problem; each is shown next to its field.
 */
export function templatesPage(ctx: PageContext): HTMLElement {
  const app = ctx.app!;
  ctx.title(t('templates.title'));
  const channel = h('select', { id: 'template-channel' }, CHANNELS.map((c) => h('option', { value: c }, t(`kind.${c}`))));
  const purpose = h('select', { id: 'template-purpose' }, PURPOSES.map((p) => h('option', { value: p }, t(`purpose.${p}`))));
  const list = h('div', { class: 'templates-list' });
  const editor = h('div', { class: 'template-editor' });
  channel.addEventListener('change', () => void load());
  purpose.addEventListener('change', () => void load());
  void load();
  return h(
    'section',
    {},
    h('h1', {}, t('templates.title')),
    h('p', { class: 'muted' }, t('templates.intro')),
    h('div', { class: 'grid filters' }, h('div', { class: 'field' }, h('label', { for: 'template-channel' }, t('templates.channel')), channel), h('div', { class: 'field' }, h('label', { for: 'template-purpose' }, t('templates.purpose')), purpose)),
    list,
    editor,
  );

  function base(): string {
    return `${appPath(app.id)}/templates/${channel.value}/${purpose.value}`;
  }

  async function load(): Promise<void> {
    replace(editor);
    replace(list, h('p', { role: 'status' }, t('loading')));
    try {
      const { items } = await api<{ items: Template[] }>('GET', base());
      replace(
        list,
        items.length === 0
          ? h('p', {}, t('templates.none'))
          : h(
              'table',
              { class: 'templates' },
              h('caption', { class: 'sr-only' }, t('templates.caption', { channel: t(`kind.${channel.value}`), purpose: t(`purpose.${purpose.value}`) })),
              h('thead', {}, h('tr', {}, [t('templates.locale'), t('templates.text'), t('templates.updated'), t('agents.actions')].map((x) => h('th', { scope: 'col' }, x)))),
              h(
                'tbody',
                {},
                items.map((item) =>
                  h(
                    'tr',
                    {},
                    h('td', { 'data-label': t('templates.locale') }, h('code', {}, item.locale)),
                    h('td', { 'data-label': t('templates.text'), class: 'template-text' }, item.subject != null && h('strong', {}, item.subject, h('br')), item.text),
                    h('td', { 'data-label': t('templates.updated') }, dateTime(item.updated_at ?? null)),
                    h(
                      'td',
                      { 'data-label': t('agents.actions') },
                      h('button', { type: 'button', class: 'secondary', 'aria-label': t('templates.editFor', { locale: item.locale }), onclick: () => edit(item) }, t('agents.edit')),
                    ),
                  ),
                ),
              ),
            ),
        h('button', { type: 'button', class: 'secondary', onclick: () => edit(undefined) }, t('templates.add')),
      );
    } catch (error) {
      replace(list, h('p', { role: 'alert', class: 'form-error' }, errorText(error)));
    }
  }

  function edit(item: Template | undefined): void {
    const isEmail = channel.value === 'email';
    const locale = h('input', { id: 'template-locale', type: 'text', value: item?.locale ?? '', readonly: item !== undefined, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'template-locale-hint template-locale-error' });
    const subject = h('input', { id: 'template-subject', type: 'text', value: item?.subject ?? '', 'aria-describedby': 'template-subject-error' });
    const text = h('textarea', { id: 'template-text', rows: '5', 'aria-describedby': 'template-text-hint template-text-error' }, item?.text ?? '');
    const errorOf: Record<string, HTMLElement> = {
      locale: h('p', { id: 'template-locale-error', class: 'field-error' }),
      subject: h('p', { id: 'template-subject-error', class: 'field-error' }),
      text: h('p', { id: 'template-text-error', class: 'field-error' }),
    };
    const inputOf: Record<string, HTMLElement> = { locale, subject, text };
    const message = h('p', { class: 'form-error', role: 'alert' });
    const clear = () => {
      for (const [k, el] of Object.entries(errorOf)) {
        el.textContent = '';
        inputOf[k]?.removeAttribute('aria-invalid');
      }
      message.textContent = '';
    };
    const form = h(
      'form',
      {
        class: 'card',
        'aria-labelledby': 'template-editor-heading',
        novalidate: true,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          clear();
          const tag = locale.value.trim();
          if (tag === '') {
            errorOf['locale']!.textContent = t('templates.localeRequired');
            locale.setAttribute('aria-invalid', 'true');
            locale.focus();
            return;
          }
          const body: Record<string, string> = { text: text.value };
          if (isEmail) body['subject'] = subject.value;
          try {
            await api('PUT', `${base()}/${encodeURIComponent(tag)}`, body);
            await load();
            list.querySelector<HTMLElement>('table')?.setAttribute('tabindex', '-1');
            const status = h('p', { class: 'notice success', role: 'status' }, t('templates.saved', { locale: tag }));
            list.prepend(status);
          } catch (error) {
            const problems = error instanceof ApiError && Array.isArray(error.problem['problems']) ? (error.problem['problems'] as Array<{ field?: string; message?: string }>) : [];
            let first: HTMLElement | undefined;
            for (const p of problems) {
              const key = p.field !== undefined && p.field in errorOf ? p.field : 'text';
              const el = errorOf[key]!;
              el.textContent = el.textContent === '' ? (p.message ?? '') : `${el.textContent} ${p.message ?? ''}`;
              inputOf[key]?.setAttribute('aria-invalid', 'true');
              first ??= inputOf[key];
            }
            message.textContent = problems.length > 0 ? t('templates.invalid', { n: problems.length }) : errorText(error);
            first?.focus();
          }
        },
      },
      h('h2', { id: 'template-editor-heading', tabindex: '-1' }, item === undefined ? t('templates.new') : t('templates.editing', { locale: item.locale })),
      h('div', { class: 'field' }, h('label', { for: 'template-locale' }, t('templates.locale')), h('p', { id: 'template-locale-hint', class: 'hint' }, t('templates.localeHint')), locale, errorOf['locale']),
      isEmail && h('div', { class: 'field' }, h('label', { for: 'template-subject' }, t('templates.subject')), subject, errorOf['subject']),
      h('div', { class: 'field' }, h('label', { for: 'template-text' }, t('templates.text')), h('p', { id: 'template-text-hint', class: 'hint' }, t('templates.textHint')), text, errorOf['text']),
      message,
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit' }, t('save')),
        item !== undefined &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                if (!confirm(t('templates.deleteConfirm', { locale: item.locale }))) return;
                try {
                  await api('DELETE', `${base()}/${encodeURIComponent(item.locale)}`);
                  await load();
                } catch (error) {
                  message.textContent = errorText(error);
                }
              },
            },
            t('templates.delete'),
          ),
        h('button', { type: 'button', class: 'secondary', onclick: () => replace(editor) }, t('cancel')),
      ),
    );
    replace(editor, form);
    (item === undefined ? locale : text).focus();
  }
}

import { h, replace } from '../../shared/dom.ts';
import { api, appPath } from '../api.ts';
import { t, type PageContext } from '../context.ts';
import { errorText } from '../errors.ts';
import { dateTime } from '../format.ts';

interface AuditItem {
  at: string | number;
  agent: { id: string; email: string | null };
  person: { id: string; display_name: string | null } | null;
  channel: string | null;
  action: string;
  result: string | null;
}

/** Admin: who verified whom from the console, when, and the result; a page at a time (cursor). */
export function auditPage(ctx: PageContext): HTMLElement {
  const app = ctx.app!;
  ctx.title(t('audit.title'));
  const from = h('input', { id: 'audit-from', type: 'date' });
  const to = h('input', { id: 'audit-to', type: 'date' });
  const results = h('div', {});
  const status = h('p', { class: 'sr-only', role: 'status' });
  /** Cursors of the pages before the one shown, for Previous. */
  let previous: Array<string | null> = [];
  let cursor: string | null = null;

  void load(null);
  return h(
    'section',
    {},
    h('h1', {}, t('audit.title')),
    h('p', { class: 'muted' }, t('audit.intro')),
    h(
      'form',
      {
        class: 'grid filters',
        'aria-label': t('audit.filter'),
        onsubmit: (event: Event) => {
          event.preventDefault();
          previous = [];
          void load(null);
        },
      },
      h('div', { class: 'field' }, h('label', { for: 'audit-from' }, t('audit.from')), from),
      h('div', { class: 'field' }, h('label', { for: 'audit-to' }, t('audit.to')), to),
      h('div', { class: 'field end' }, h('button', { type: 'submit', class: 'secondary' }, t('audit.apply'))),
    ),
    status,
    results,
  );

  async function load(at: string | null): Promise<void> {
    cursor = at;
    const q = new URLSearchParams();
    // Dates are days in the agent's own time zone: from its first to the end of `to`.
    if (from.value !== '') q.set('from', new Date(`${from.value}T00:00:00`).toISOString());
    if (to.value !== '') q.set('to', new Date(new Date(`${to.value}T00:00:00`).getTime() + 86_400_000).toISOString());
    if (at !== null) q.set('cursor', at);
    try {
      const res = await api<{ items: AuditItem[]; next_cursor: string | null }>('GET', `${appPath(app.id)}/audit${q.size > 0 ? `?${q}` : ''}`);
      const heads = [t('audit.at'), t('audit.agent'), t('audit.person'), t('audit.channel'), t('audit.action'), t('audit.result')];
      const translated = (prefix: string, v: string | null) => (v === null ? '—' : t(`${prefix}.${v}`) === `${prefix}.${v}` ? v : t(`${prefix}.${v}`));
      replace(
        results,
        res.items.length === 0
          ? h('p', {}, t('audit.none'))
          : h(
              'table',
              { class: 'audit' },
              h('caption', { class: 'sr-only' }, t('audit.title')),
              h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
              h(
                'tbody',
                {},
                res.items.map((item) =>
                  h(
                    'tr',
                    {},
                    h('td', { 'data-label': heads[0] }, dateTime(item.at)),
                    h('td', { 'data-label': heads[1] }, item.agent.email ?? item.agent.id),
                    h(
                      'td',
                      { 'data-label': heads[2] },
                      item.person === null
                        ? '—'
                        : h('a', { href: `/console/apps/${encodeURIComponent(app.id)}/people/${encodeURIComponent(item.person.id)}` }, item.person.display_name ?? item.person.id),
                    ),
                    h('td', { 'data-label': heads[3] }, translated('kind', item.channel)),
                    h('td', { 'data-label': heads[4] }, translated('action', item.action)),
                    h('td', { 'data-label': heads[5] }, h('span', { class: `result result-${item.result ?? 'none'}` }, translated('result', item.result))),
                  ),
                ),
              ),
            ),
        h(
          'nav',
          { class: 'pager', 'aria-label': t('audit.pages') },
          previous.length > 0 &&
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => {
                  const back = previous.pop() ?? null;
                  void load(back);
                },
              },
              t('audit.previous'),
            ),
          res.next_cursor !== null &&
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                onclick: () => {
                  previous.push(cursor);
                  void load(res.next_cursor);
                },
              },
              t('audit.next'),
            ),
        ),
      );
      status.textContent = t('audit.shown', { n: res.items.length });
    } catch (error) {
      replace(results, h('p', { role: 'alert', class: 'form-error' }, errorText(error)));
    }
  }
}

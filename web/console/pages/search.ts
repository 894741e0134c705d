import { h, replace } from '../../shared/dom.ts';
import { api, ApiError, appPath, type PersonSummary } from '../api.ts';
import { t, type PageContext } from '../context.ts';
import { errorText } from '../errors.ts';

const DEBOUNCE_MS = 250;

/**
 * Find a person by e-mail, phone, external id or name, as you type (from 2 characters). The
 * input is an ARIA combobox over a listbox: arrows move, Enter opens, Escape clears; the count
 * of results is announced politely.
 */
export function searchPage(ctx: PageContext): HTMLElement {
  const app = ctx.app!;
  ctx.title(t('search.title'));
  const status = h('p', { id: 'search-status', class: 'muted', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { id: 'search-results', role: 'listbox', 'aria-label': t('search.results'), class: 'results', hidden: true });
  const input = h('input', {
    id: 'search',
    type: 'search',
    role: 'combobox',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': 'search-results',
    'aria-describedby': 'search-hint',
  });
  let items: PersonSummary[] = [];
  let active = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;

  const open = (person: PersonSummary) => ctx.navigate(`apps/${encodeURIComponent(app.id)}/people/${encodeURIComponent(person.id)}`);

  function setActive(index: number): void {
    active = index;
    list.querySelectorAll('[role=option]').forEach((el, i) => el.setAttribute('aria-selected', String(i === index)));
    const el = index >= 0 ? list.children[index] : undefined;
    if (el !== undefined) {
      input.setAttribute('aria-activedescendant', el.id);
      el.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function show(found: PersonSummary[]): void {
    items = found;
    replace(
      list,
      found.map((p, i) =>
        h(
          'li',
          { id: `person-option-${i}`, role: 'option', 'aria-selected': 'false', onclick: () => open(p), onmousemove: () => active !== i && setActive(i) },
          h('span', { class: 'name' }, p.display_name ?? p.email ?? p.phone ?? p.external_id ?? p.id),
          h('span', { class: 'detail' }, [p.email, p.phone, p.external_id].filter((v) => v !== null && v !== '').join(' · ')),
        ),
      ),
    );
    input.setAttribute('aria-expanded', String(found.length > 0));
    // An empty listbox is not shown (nor announced as an empty list).
    list.hidden = found.length === 0;
    setActive(-1);
    status.textContent = found.length === 0 ? t('search.none') : t(found.length === 1 ? 'search.count.one' : 'search.count', { n: found.length });
  }

  async function search(q: string): Promise<void> {
    inflight?.abort();
    const controller = new AbortController();
    inflight = controller;
    try {
      const res = await api<{ items: PersonSummary[] }>('GET', `${appPath(app.id)}/people?q=${encodeURIComponent(q)}`, undefined, { signal: controller.signal });
      if (inflight === controller) show(res.items);
    } catch (error) {
      if (controller.signal.aborted) return;
      show([]);
      status.textContent = error instanceof ApiError ? errorText(error) : t('error.unreachable');
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) {
      inflight?.abort();
      show([]);
      status.textContent = q.length === 0 ? '' : t('search.tooShort');
      return;
    }
    timer = setTimeout(() => void search(q), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && items.length > 0) {
      event.preventDefault();
      setActive((active + 1) % items.length);
    } else if (event.key === 'ArrowUp' && items.length > 0) {
      event.preventDefault();
      setActive(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === 'Enter') {
      const chosen = items[active] ?? (items.length === 1 ? items[0] : undefined);
      if (chosen !== undefined) {
        event.preventDefault();
        open(chosen);
      }
    } else if (event.key === 'Escape') {
      input.value = '';
      show([]);
      status.textContent = '';
    }
  });

  return h(
    'section',
    { class: 'search' },
    h('h1', {}, t('search.title')),
    h('p', { class: 'muted' }, t('search.in', { app: app.name })),
    h('div', { class: 'field' }, h('label', { for: 'search' }, t('search.label')), h('p', { id: 'search-hint', class: 'hint' }, t('search.hint')), input),
    status,
    list,
  );
}

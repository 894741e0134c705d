import { h, replace, uid } from '../../shared/dom.ts';
import { api, type Agent } from '../api.ts';
import { t, type PageContext } from '../context.ts';
import { errorText } from '../errors.ts';

/** An agent as the admin list gives it: its grants as ids or {id, name}, and whether it is disabled. */
interface ListedAgent extends Agent {
  applications?: Array<string | { id: string; name?: string }>;
  disabled?: boolean;
  disabled_at?: string | number | null;
}

const grantIds = (a: ListedAgent) => (a.applications ?? []).map((g) => (typeof g === 'string' ? g : g.id));
const isDisabled = (a: ListedAgent) => a.disabled === true || (a.disabled_at !== undefined && a.disabled_at !== null);

/** Admin: the agents, a new agent (its generated password shown once), roles and grants. */
export function agentsPage(ctx: PageContext): HTMLElement {
  ctx.title(t('agents.title'));
  const apps = ctx.session.applications;
  const list = h('div', { class: 'agents-list' }, h('p', { role: 'status' }, t('loading')));
  const created = h('div', { class: 'created', 'aria-live': 'polite' });
  const section = h('section', {}, h('h1', {}, t('agents.title')), list, h('h2', {}, t('agents.create')), createForm(), created);
  void load();
  return section;

  async function load(): Promise<void> {
    try {
      const res = await api<{ items: ListedAgent[] } | ListedAgent[]>('GET', '/agents');
      const agents = Array.isArray(res) ? res : res.items;
      replace(list, table(agents));
    } catch (error) {
      replace(list, h('p', { role: 'alert', class: 'form-error' }, errorText(error)));
    }
  }

  function appName(id: string): string {
    return apps.find((a) => a.id === id)?.name ?? id;
  }

  function grantBoxes(legend: string, chosen: string[]): { fieldset: HTMLFieldSetElement; value(): string[] } {
    const boxes = apps.map((a) => {
      const id = uid('grant');
      const box = h('input', { type: 'checkbox', id, value: a.id, checked: chosen.includes(a.id) });
      return { box, el: h('div', { class: 'check' }, box, h('label', { for: id }, a.name)) };
    });
    return {
      fieldset: h('fieldset', {}, h('legend', {}, legend), boxes.map((b) => b.el)),
      value: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
    };
  }

  function roleSelect(id: string, value: string): HTMLSelectElement {
    return h('select', { id }, ['agent', 'admin'].map((r) => h('option', { value: r, selected: r === value }, t(`agentRole.${r}`))));
  }

  function table(agents: ListedAgent[]): HTMLElement {
    const heads = [t('agents.email'), t('agents.role'), t('agents.applications'), t('agents.status'), t('agents.actions')];
    return h(
      'table',
      { class: 'agents' },
      h('caption', { class: 'sr-only' }, t('agents.title')),
      h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
      h(
        'tbody',
        {},
        agents.map((a) => {
          const row = h(
            'tr',
            {},
            h('td', { 'data-label': heads[0] }, a.email, a.id === ctx.session.agent.id && h('span', { class: 'muted' }, ` (${t('agents.you')})`)),
            h('td', { 'data-label': heads[1] }, t(`agentRole.${a.role}`)),
            h('td', { 'data-label': heads[2] }, grantIds(a).map(appName).join(', ') || '—'),
            h('td', { 'data-label': heads[3] }, isDisabled(a) ? t('agents.disabled') : t('agents.active')),
            h(
              'td',
              { 'data-label': heads[4] },
              !isDisabled(a) &&
                h(
                  'button',
                  { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': t('agents.editFor', { email: a.email }), onclick: (e: Event) => toggleEdit(e.currentTarget as HTMLButtonElement, row, a) },
                  t('agents.edit'),
                ),
            ),
          );
          return row;
        }),
      ),
    );
  }

  function toggleEdit(button: HTMLButtonElement, row: HTMLTableRowElement, agent: ListedAgent): void {
    const next = row.nextElementSibling;
    if (next?.classList.contains('edit-row') === true) {
      next.remove();
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    button.setAttribute('aria-expanded', 'true');
    const roleId = uid('role');
    const role = roleSelect(roleId, agent.role);
    const grants = grantBoxes(t('agents.grants'), grantIds(agent));
    const message = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'edit-agent',
        'aria-label': t('agents.editFor', { email: agent.email }),
        onsubmit: async (event: Event) => {
          event.preventDefault();
          try {
            await api('PATCH', `/agents/${encodeURIComponent(agent.id)}`, { role: role.value, applications: grants.value() });
            await load();
          } catch (error) {
            message.textContent = errorText(error);
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: roleId }, t('agents.role')), role),
      grants.fieldset,
      message,
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'submit' }, t('save')),
        agent.id !== ctx.session.agent.id &&
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                if (!confirm(t('agents.disableConfirm', { email: agent.email }))) return;
                try {
                  await api('PATCH', `/agents/${encodeURIComponent(agent.id)}`, { disabled: true });
                  await load();
                } catch (error) {
                  message.textContent = errorText(error);
                }
              },
            },
            t('agents.disable'),
          ),
      ),
    );
    row.after(h('tr', { class: 'edit-row' }, h('td', { colspan: '5' }, form)));
    role.focus();
  }

  function createForm(): HTMLElement {
    const email = h('input', { id: 'new-agent-email', type: 'email', required: true, autocomplete: 'off' });
    const role = roleSelect('new-agent-role', 'agent');
    const password = h('input', { id: 'new-agent-password', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'new-agent-password-hint' });
    const grants = grantBoxes(t('agents.grants'), ctx.app === undefined ? [] : [ctx.app.id]);
    const message = h('p', { class: 'form-error', role: 'alert' });
    const form: HTMLFormElement = h(
      'form',
      {
        class: 'card',
        'aria-label': t('agents.create'),
        novalidate: true,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          message.textContent = '';
          replace(created);
          if (email.value.trim() === '') {
            message.textContent = t('agents.emailRequired');
            email.focus();
            return;
          }
          try {
            const body: Record<string, unknown> = { email: email.value.trim(), role: role.value, applications: grants.value() };
            if (password.value !== '') body['password'] = password.value;
            const res = await api<{ agent: Agent; password?: string }>('POST', '/agents', body);
            form.reset();
            showCreated(res.agent, res.password);
            await load();
          } catch (error) {
            message.textContent = errorText(error);
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: 'new-agent-email' }, t('agents.email')), email),
      h('div', { class: 'field' }, h('label', { for: 'new-agent-role' }, t('agents.role')), role),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'new-agent-password' }, t('agents.password')),
        h('p', { id: 'new-agent-password-hint', class: 'hint' }, t('agents.passwordHint')),
        password,
      ),
      grants.fieldset,
      message,
      h('button', { type: 'submit' }, t('agents.createButton')),
    );
    return form;
  }

  function showCreated(agent: Agent, password: string | undefined): void {
    replace(
      created,
      h(
        'div',
        { class: 'notice success', tabindex: '-1' },
        h('p', {}, t('agents.created', { email: agent.email })),
        password !== undefined && [
          h('p', {}, t('agents.passwordOnce')),
          h('p', {}, h('code', { class: 'secret' }, password), ' ', h('button', { type: 'button', class: 'secondary', onclick: () => void navigator.clipboard?.writeText(password) }, t('agents.copy'))),
        ],
      ),
    );
    (created.firstElementChild as HTMLElement).focus();
  }
}

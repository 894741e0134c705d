import { h, replace } from '../../shared/dom.ts';
import { api, appPath, type Device, type Person } from '../api.ts';
import { t, type PageContext } from '../context.ts';
import { sendCodeDialog } from '../dialogs/send-code.ts';
import { verifyCallerDialog } from '../dialogs/verify-caller.ts';
import { errorText } from '../errors.ts';
import { dateTime } from '../format.ts';

/** A person's details and devices, with Verify caller (push) and Send code (sms, voice) per device. */
export function personPage(ctx: PageContext, personId: string): HTMLElement {
  const app = ctx.app!;
  const section = h('section', { class: 'person' }, h('h1', {}, t('person.loading')), h('p', { role: 'status' }, t('loading')));
  void load();
  return section;

  async function load(): Promise<void> {
    try {
      const { person, devices } = await api<{ person: Person; devices: Device[] }>('GET', `${appPath(app.id)}/people/${encodeURIComponent(personId)}`);
      const name = person.display_name ?? person.email ?? person.phone ?? person.external_id ?? person.id;
      ctx.title(name);
      replace(
        section,
        h('p', { class: 'back' }, h('a', { href: `/console/apps/${encodeURIComponent(app.id)}` }, t('person.back'))),
        h('h1', { tabindex: '-1' }, name),
        details(person),
        h('h2', { id: 'devices-heading' }, t('devices.title')),
        devices.length === 0 ? h('p', {}, t('devices.none')) : devicesTable(person, devices),
      );
      section.querySelector('h1')?.focus({ preventScroll: true });
    } catch (error) {
      ctx.title(t('person.title'));
      replace(section, h('h1', { tabindex: '-1' }, t('person.title')), h('p', { role: 'alert', class: 'form-error' }, errorText(error)));
    }
  }

  function details(person: Person): HTMLElement {
    const row = (label: string, value: string | null) => [h('dt', {}, label), h('dd', {}, value === null || value === '' ? '—' : value)];
    return h(
      'dl',
      { class: 'details' },
      row(t('person.email'), person.email),
      row(t('person.phone'), person.phone),
      row(t('person.externalId'), person.external_id),
      row(t('person.locale'), person.locale),
      row(t('person.status'), t(`status.person.${person.status}`) === `status.person.${person.status}` ? person.status : t(`status.person.${person.status}`)),
    );
  }

  function devicesTable(person: Person, devices: Device[]): HTMLElement {
    const label = (key: string) => t(key);
    const cell = (heading: string, ...content: Array<Node | string>) => h('td', { 'data-label': heading }, ...content);
    const heads = ['devices.name', 'devices.kind', 'devices.role', 'devices.status', 'devices.lastUsed', 'devices.capabilities', 'devices.actions'].map(label);
    const translated = (prefix: string, value: string) => (t(`${prefix}.${value}`) === `${prefix}.${value}` ? value : t(`${prefix}.${value}`));
    return h(
      'table',
      { class: 'devices', 'aria-labelledby': 'devices-heading' },
      h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))),
      h(
        'tbody',
        {},
        devices.map((d) =>
          h(
            'tr',
            {},
            cell(heads[0]!, h('strong', {}, d.name)),
            cell(heads[1]!, translated('kind', d.kind)),
            cell(heads[2]!, translated('role', d.role)),
            cell(heads[3]!, translated('status.device', d.status)),
            cell(heads[4]!, dateTime(d.last_used_at)),
            cell(heads[5]!, d.capabilities.length === 0 ? '—' : d.capabilities.map((c) => translated('capability', c)).join(', ')),
            cell(
              heads[6]!,
              h(
                'div',
                { class: 'actions' },
                d.can_verify_caller &&
                  h(
                    'button',
                    { type: 'button', 'aria-label': t('verify.buttonFor', { device: d.name }), onclick: (e: Event) => verifyCallerDialog({ app, person, device: d, opener: e.currentTarget as HTMLElement }) },
                    t('verify.button'),
                  ),
                d.can_send_code &&
                  h(
                    'button',
                    { type: 'button', class: 'secondary', 'aria-label': t('code.buttonFor', { device: d.name }), onclick: (e: Event) => sendCodeDialog({ app, person, device: d, opener: e.currentTarget as HTMLElement }) },
                    t('code.button'),
                  ),
                !d.can_verify_caller && !d.can_send_code && h('span', { class: 'muted' }, '—'),
              ),
            ),
          ),
        ),
      ),
    );
  }
}

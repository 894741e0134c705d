// The agent console: built by Vite, served at /console/ (any path below answers this page;
// it routes itself with the history API). See docs/console.md.
import { h, replace } from '../shared/dom.ts';
import { api, ApiError, setCsrfToken, whenSignedOut, type Session } from './api.ts';
import { BASE, href, i18n, t, type PageContext } from './context.ts';
import { agentsPage } from './pages/agents.ts';
import { auditPage } from './pages/audit.ts';
import { personPage } from './pages/person.ts';
import { searchPage } from './pages/search.ts';
import { settingsPage } from './pages/settings.ts';
import { signInPage } from './pages/sign-in.ts';
import { templatesPage } from './pages/templates.ts';

const root = document.getElementById('app') as HTMLElement;
let session: Session | undefined;
/** Where to go after signing in: the page asked for before. */
let afterSignIn = '';

function path(): string {
  const full = location.pathname;
  return full.startsWith(BASE) ? full.slice(BASE.length).replace(/\/$/, '') : '';
}

function navigate(to: string, replaceState = false): void {
  const url = href(to);
  if (replaceState) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void render();
}

function signedOut(): void {
  session = undefined;
  if (path() !== 'sign-in') afterSignIn = path();
  navigate('sign-in', true);
}
whenSignedOut(signedOut);

async function signOut(): Promise<void> {
  try {
    await api('POST', '/sign-out', undefined, { quiet401: true });
  } catch {
    // Signed out either way.
  }
  session = undefined;
  afterSignIn = '';
  navigate('sign-in');
}

function languageSwitch(): HTMLElement {
  const select = h(
    'select',
    { id: 'language', onchange: () => i18n.setLocale(select.value) },
    i18n.locales.map((l) => h('option', { value: l, selected: l === i18n.locale() }, t(`language.${l}`))),
  );
  return h('div', { class: 'field inline' }, h('label', { for: 'language' }, t('language')), select);
}

function header(ctx: PageContext): HTMLElement {
  const s = ctx.session;
  const appId = ctx.app?.id;
  const switcher =
    s.applications.length > 0
      ? h(
          'div',
          { class: 'field inline' },
          h('label', { for: 'application' }, t('application')),
          h(
            'select',
            {
              id: 'application',
              onchange: (e: Event) => navigate(`apps/${encodeURIComponent((e.target as HTMLSelectElement).value)}`),
            },
            s.applications.map((a) => h('option', { value: a.id, selected: a.id === appId }, a.name)),
          ),
        )
      : null;
  const link = (to: string, label: string) => {
    const current = path() === to || (to.endsWith('/people') === false && path() === to);
    return h('li', {}, h('a', { href: href(to), 'aria-current': current ? 'page' : undefined }, label));
  };
  const admin = s.agent.role === 'admin';
  const nav =
    appId === undefined
      ? null
      : h(
          'nav',
          { 'aria-label': t('nav.label') },
          h(
            'ul',
            {},
            link(`apps/${encodeURIComponent(appId)}`, t('nav.search')),
            admin && link(`apps/${encodeURIComponent(appId)}/audit`, t('nav.audit')),
            admin && link(`apps/${encodeURIComponent(appId)}/settings`, t('nav.settings')),
            admin && link(`apps/${encodeURIComponent(appId)}/templates`, t('nav.templates')),
            admin && link('agents', t('nav.agents')),
          ),
        );
  return h(
    'header',
    { class: 'top' },
    h('div', { class: 'brand' }, h('a', { href: href('') }, 'Outband'), h('span', {}, t('console'))),
    switcher,
    nav,
    h(
      'div',
      { class: 'who' },
      languageSwitch(),
      h('span', { class: 'agent-email' }, s.agent.email),
      h('button', { type: 'button', class: 'secondary', onclick: () => void signOut() }, t('signOut')),
    ),
  );
}

let rendering = 0;

async function render(): Promise<void> {
  const turn = ++rendering;
  const p = path();
  document.body.classList.toggle('signed-in', session !== undefined);

  if (session === undefined && p !== 'sign-in') {
    try {
      session = await api<Session>('GET', '/session', undefined, { quiet401: true });
      setCsrfToken(session.csrf_token);
    } catch (error) {
      if (turn !== rendering) return;
      if (error instanceof ApiError && error.status === 401) {
        afterSignIn = p;
        navigate('sign-in', true);
        return;
      }
      replace(root, h('p', { role: 'alert' }, t('error.unreachable')));
      return;
    }
    if (turn !== rendering) return;
  }

  if (p === 'sign-in' || session === undefined) {
    document.title = `${t('signIn.title')} · Outband`;
    replace(
      root,
      h('header', { class: 'top-bar-plain' }, languageSwitch()),
      signInPage((signedIn) => {
        session = signedIn;
        setCsrfToken(signedIn.csrf_token);
        if (signedIn.agent.locale !== null && localStorage.getItem('outband.console.locale') === null) i18n.setLocale(signedIn.agent.locale);
        const to = afterSignIn;
        afterSignIn = '';
        navigate(to === '' || to === 'sign-in' ? '' : to, true);
      }),
    );
    focusHeading();
    return;
  }

  const parts = p === '' ? [] : p.split('/').map(decodeURIComponent);
  const s = session;
  if (parts.length === 0) {
    const first = s.applications[0];
    if (first !== undefined) navigate(`apps/${encodeURIComponent(first.id)}`, true);
    else if (s.agent.role === 'admin') navigate('agents', true);
    else mount(undefined, (ctx) => h('section', {}, h('h1', { tabindex: '-1' }, t('noApplications.title')), h('p', {}, t('noApplications.text'))), ctx0(undefined));
    return;
  }

  const app = parts[0] === 'apps' ? s.applications.find((a) => a.id === parts[1]) : undefined;
  const ctx = ctx0(app);
  if (parts[0] === 'apps' && app === undefined) {
    mount(app, () => h('section', {}, h('h1', { tabindex: '-1' }, t('notFound.title')), h('p', {}, t('error.application_not_granted'))), ctx);
    return;
  }
  if (parts[0] === 'agents') return mount(s.applications[0], agentsPage, ctx0(s.applications[0]));
  const rest = parts.slice(2).join('/');
  if (rest === '') return mount(app, searchPage, ctx);
  if (parts[2] === 'people' && parts[3] !== undefined) return mount(app, (c) => personPage(c, parts[3] as string), ctx);
  if (rest === 'audit') return mount(app, auditPage, ctx);
  if (rest === 'settings') return mount(app, settingsPage, ctx);
  if (rest === 'templates') return mount(app, templatesPage, ctx);
  mount(app, () => h('section', {}, h('h1', { tabindex: '-1' }, t('notFound.title'))), ctx);
}

function ctx0(app: PageContext['app']): PageContext {
  return {
    session: session as Session,
    app,
    navigate,
    title: (text) => {
      document.title = `${text} · Outband`;
    },
  };
}

function mount(_app: PageContext['app'], page: (ctx: PageContext) => HTMLElement, ctx: PageContext): void {
  const main = h('main', { id: 'main', tabindex: '-1' }, page(ctx));
  replace(root, h('a', { class: 'skip', href: '#main' }, t('skip')), header(ctx), main);
  focusHeading();
}

/** After a page change, focus moves to its heading so screen readers hear where they are. */
function focusHeading(): void {
  const heading = root.querySelector<HTMLElement>('h1');
  if (heading !== null) {
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

// Links inside the console move without reloading.
document.addEventListener('click', (event) => {
  const a = (event.target as Element | null)?.closest?.('a');
  if (a === null || a === undefined || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || url.hash !== '') return;
  event.preventDefault();
  navigate(url.pathname.slice(BASE.length));
});
window.addEventListener('popstate', () => void render());
i18n.onChange(() => void render());

void render();

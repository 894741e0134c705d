// The web authenticator (docs/device-api.md, "A web authenticator (WebAuthn)"): enrols this
// browser from the enrolment link, follows the device's requests over its stream (and Web Push
// when granted), and answers them: approvals with the platform authenticator, denials with the
// device key.
// The stylesheet goes through Vite's module graph (bundled and hashed; a missing file fails the build).
import './style.css';
import { ApiError, apiOf, deviceApi, enroll, type DeviceApi, type PushRequest, type RespondResult } from './api.ts';
import { fromBase64url, h, replace } from './dom.ts';
import { forgetEnrolment, loadEnrolment, saveEnrolment, type Enrolment } from './storage.ts';
import { follow } from './stream.ts';
import { initialLanguage, LANGUAGES, saveLanguage, textsFor, type Language, type Texts } from './texts.ts';

const app = document.getElementById('app') as HTMLElement;
const title = document.getElementById('title') as HTMLElement;
const languageSlot = document.getElementById('language') as HTMLElement;
const api = apiOf(location);
const base = `${api}/authenticator/`;

let language: Language = initialLanguage();
let t: Texts = textsFor(language);
/** Re-renders the current view after a language switch. */
let rerender: () => void = () => {};

function setLanguage(next: Language): void {
  language = next;
  t = textsFor(next);
  saveLanguage(next);
  applyChrome();
  rerender();
}

function applyChrome(): void {
  document.documentElement.lang = language;
  document.title = t.title;
  title.textContent = t.title;
  const select = h('select', { id: 'language-select', onchange: (e) => setLanguage((e.target as HTMLSelectElement).value as Language) });
  for (const l of LANGUAGES) select.append(h('option', { value: l, selected: l === language }, l === 'en' ? 'English' : 'Nederlands'));
  replace(languageSlot, h('label', { for: 'language-select' }, t.language), ' ', select);
}

function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.code === 'activation_invalid' ? t.linkInvalid : `${t.error} ${error.message} (${error.code})`;
  return `${t.error} ${(error as Error)?.message ?? String(error)}`;
}

// ---------------------------------------------------------------- enrolment

function enrolView(token: string): void {
  const status = h('p', { id: 'enrol-status', role: 'status', 'aria-live': 'polite' });
  const supported = typeof PublicKeyCredential !== 'undefined' && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function';
  const name = h('input', { id: 'device-name', name: 'name', type: 'text', required: true, maxlength: 64, autocomplete: 'off', 'aria-describedby': 'device-name-hint', value: defaultName() });
  const button = h('button', { type: 'submit', class: 'primary', disabled: !supported }, t.enrolButton);
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        status.textContent = t.enrolling;
        try {
          const enrolment = await enroll(api, token, name.value.trim() || defaultName());
          await saveEnrolment(enrolment);
          // The token is used up: take it out of the address bar and history.
          history.replaceState(null, '', base);
          homeView(enrolment, t.enrolled(enrolment.name));
        } catch (error) {
          status.textContent = `${t.enrolFailed} ${error instanceof DOMException ? `${error.name}: ${error.message}` : errorText(error)}`;
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'device-name' }, t.deviceName),
    name,
    h('p', { id: 'device-name-hint', class: 'hint' }, t.deviceNameHint),
    button,
  );
  replace(app, h('section', { 'aria-labelledby': 'enrol-h', class: 'card' }, h('h2', { id: 'enrol-h' }, t.enrolTitle), h('p', {}, t.enrolIntro), supported ? null : h('p', { class: 'warning' }, t.noWebAuthn), form, status));
  rerender = () => enrolView(token);
}

function defaultName(): string {
  const ua = navigator.userAgent;
  const platform = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iPhone' : /Mac/.test(ua) ? 'Mac' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : 'Browser';
  return `${platform} browser`;
}

// ---------------------------------------------------------------- requests

interface Shown {
  request: PushRequest;
  element: HTMLElement;
  timer: number;
  busy: boolean;
}

let session: AbortController | null = null;

function homeView(enrolment: Enrolment, greeting?: string): void {
  session?.abort();
  const stop = new AbortController();
  session = stop;
  const device = deviceApi(enrolment);
  const shown = new Map<string, Shown>();

  const connection = h('p', { id: 'connection', class: 'connection', role: 'status' }, t.connecting);
  const notes = h('div', { id: 'notes', 'aria-live': 'polite', class: 'notes' });
  const list = h('ul', { id: 'requests', class: 'requests', 'aria-labelledby': 'requests-h' });
  const empty = h('p', { id: 'no-requests', class: 'hint' }, t.noRequests);
  const heading = h('h2', { id: 'requests-h', tabindex: -1 }, t.requestsHeading);
  const notify = h('div', { id: 'notifications' });

  const note = (text: string, kind: 'info' | 'good' | 'bad' = 'info') => {
    notes.prepend(h('p', { class: `note ${kind}` }, text));
    while (notes.childElementCount > 4) notes.lastElementChild?.remove();
  };
  const refreshEmpty = () => {
    empty.hidden = shown.size > 0;
  };

  function remove(id: string, text: string | null, kind: 'info' | 'good' | 'bad' = 'info'): void {
    const entry = shown.get(id);
    if (entry === undefined) return;
    clearInterval(entry.timer);
    const hadFocus = entry.element.contains(document.activeElement);
    entry.element.remove();
    shown.delete(id);
    if (text !== null) note(text, kind);
    refreshEmpty();
    if (hadFocus) heading.focus();
  }

  function add(request: PushRequest, announce: boolean): void {
    if (request.status !== 'pending' && request.status !== undefined) return;
    const existing = shown.get(request.id);
    if (existing !== undefined) {
      existing.request = request;
      return;
    }
    const entry: Shown = { request, element: h('li'), timer: 0, busy: false };
    shown.set(request.id, entry);
    renderRequest(entry);
    list.append(entry.element);
    entry.timer = window.setInterval(() => tick(entry), 1000);
    refreshEmpty();
    if (announce) note(t.newRequest(request.application));
  }

  function secondsLeft(request: PushRequest): number {
    return Math.max(0, Math.ceil((Date.parse(request.expires_at) - Date.now()) / 1000));
  }

  function tick(entry: Shown): void {
    const left = secondsLeft(entry.request);
    const timer = entry.element.querySelector('.countdown');
    if (timer !== null) timer.textContent = t.timeLeft(left);
    if (left <= 0 && !entry.busy) remove(entry.request.id, t.expired(entry.request.application), 'bad');
  }

  function renderRequest(entry: Shown): void {
    const r = entry.request;
    const id = r.id;
    const feedback = h('p', { class: 'feedback', role: 'status' });
    const controls = h('div', { class: 'controls' });
    const all = () => Array.from(entry.element.querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input'));
    const lock = (on: boolean) => {
      entry.busy = on;
      for (const c of all()) c.disabled = on;
    };

    async function answer(action: () => Promise<RespondResult>, kind: 'approve' | 'deny' | 'report_fraud'): Promise<void> {
      lock(true);
      feedback.textContent = kind === 'approve' ? t.verifyPrompt : t.working;
      try {
        const result = await action();
        settle(result, kind);
      } catch (error) {
        lock(false);
        if (error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'AbortError')) {
          feedback.textContent = t.notVerified;
        } else if (error instanceof ApiError && error.code === 'verification_expired') {
          remove(id, t.expired(r.application), 'bad');
        } else if (error instanceof ApiError && (error.code === 'verification_not_pending' || error.code === 'request_not_found')) {
          remove(id, t.withdrawn(r.application));
        } else {
          feedback.textContent = errorText(error);
        }
      }
    }

    function settle(result: RespondResult, kind: 'approve' | 'deny' | 'report_fraud'): void {
      if (result.status === 'pending') {
        lock(false);
        feedback.textContent = t.wrongCode;
        entry.element.querySelector<HTMLInputElement>('input[name=code]')?.focus();
        return;
      }
      if (result.read_back_code !== undefined) {
        clearInterval(entry.timer);
        replace(controls, h('p', {}, t.readBack), h('p', { class: 'read-back', 'aria-label': result.read_back_code.split('').join(' ') }, result.read_back_code));
        feedback.textContent = t.approved(r.application);
        return;
      }
      if (result.status === 'approved') remove(id, t.approved(r.application), 'good');
      else if (result.status === 'denied' && result.reason === 'number_mismatch') remove(id, t.mismatch, 'bad');
      else if (result.status === 'denied') remove(id, kind === 'report_fraud' ? t.reported(r.application) : t.denied(r.application));
      else if (result.status === 'failed') remove(id, t.failed, 'bad');
      else remove(id, t.withdrawn(r.application));
    }

    const approve = (value: string | null) => answer(() => device.approve(entry.request, value), 'approve');
    const deny = (decision: 'deny' | 'report_fraud') => answer(() => device.deny(entry.request, decision), decision);

    let approveControls: HTMLElement;
    if (r.matching === 'pick' && r.choices !== null) {
      const prompt = `pick-${id}`;
      approveControls = h(
        'div',
        { role: 'group', 'aria-labelledby': prompt, class: 'pick' },
        h('p', { id: prompt }, t.pickPrompt),
        ...r.choices.map((choice) => h('button', { type: 'button', class: 'choice', onclick: () => void approve(choice) }, choice)),
      );
    } else if (r.matching === 'type') {
      const input = h('input', { id: `code-${id}`, name: 'code', type: 'text', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6, autocomplete: 'one-time-code', required: true });
      approveControls = h(
        'form',
        {
          class: 'type',
          onsubmit: (event) => {
            event.preventDefault();
            if (/^[0-9]{6}$/.test(input.value)) void approve(input.value);
            else feedback.textContent = t.wrongCode;
          },
        },
        h('label', { for: `code-${id}` }, t.typePrompt),
        input,
        h('button', { type: 'submit', class: 'primary' }, t.approve),
      );
    } else {
      approveControls = h('button', { type: 'button', class: 'primary', onclick: () => void approve(null) }, t.approve);
    }

    const denyPanel = h(
      'div',
      { class: 'deny-panel', hidden: true, id: `deny-${id}` },
      h('p', { class: 'hint' }, t.notMeHint),
      h('button', { type: 'button', class: 'danger', onclick: () => void deny('report_fraud') }, t.notMe),
      h('button', { type: 'button', onclick: () => void deny('deny') }, t.denyConfirm),
      h('button', {
        type: 'button',
        class: 'link',
        onclick: () => {
          denyPanel.hidden = true;
          denyButton.setAttribute('aria-expanded', 'false');
          denyButton.focus();
        },
      }, t.cancel),
    );
    const denyButton = h(
      'button',
      {
        type: 'button',
        'aria-expanded': 'false',
        'aria-controls': `deny-${id}`,
        onclick: () => {
          denyPanel.hidden = false;
          denyButton.setAttribute('aria-expanded', 'true');
          denyPanel.querySelector('button')?.focus();
        },
      },
      t.deny,
    );
    replace(controls, approveControls, h('div', { class: 'deny' }, denyButton, denyPanel));

    const context = Object.entries(r.context).filter(([, v]) => v !== '');
    replace(
      entry.element,
      h(
        'article',
        { class: 'card request', 'aria-labelledby': `asks-${id}`, 'data-request-id': id },
        h('h3', { id: `asks-${id}` }, t.asks(r.application)),
        h('p', { class: 'purpose' }, t.purpose[r.purpose] ?? r.purpose),
        h('p', { class: 'message' }, r.message),
        context.length === 0 ? null : h('dl', { class: 'context' }, ...context.flatMap(([k, v]) => [h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, v)])),
        h('p', { class: 'countdown', role: 'timer', 'aria-label': t.timeLeftLabel }, t.timeLeft(secondsLeft(r))),
        controls,
        feedback,
      ),
    );
  }

  /** After a (re)connect or coming back to the page: what is still pending wins; the rest goes with a note. */
  async function reconcile(): Promise<void> {
    const pending = await device.requests();
    const ids = new Set(pending.map((r) => r.id));
    for (const [id, entry] of shown) {
      if (ids.has(id) || entry.busy) continue;
      remove(id, secondsLeft(entry.request) <= 0 ? t.expired(entry.request.application) : t.withdrawn(entry.request.application), 'bad');
    }
    for (const r of pending) add(r, !shown.has(r.id));
  }

  async function revokedLocally(message: string): Promise<void> {
    stop.abort();
    await forgetEnrolment();
    replace(app, h('p', { class: 'warning', role: 'alert' }, message));
  }

  const render = () => {
    heading.textContent = t.requestsHeading;
    empty.textContent = t.noRequests;
    replace(
      app,
      h(
        'div',
        { class: 'layout' },
        h('section', { class: 'main-column', 'aria-labelledby': 'requests-h' }, connection, heading, notes, empty, list),
        h(
          'aside',
          { class: 'side-column', 'aria-label': t.notifications },
          h('p', { id: 'device' }, t.deviceLabel(enrolment.name)),
          notify,
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: async () => {
                stop.abort();
                await forgetEnrolment();
                start();
              },
            },
            t.forget,
          ),
        ),
      ),
    );
    for (const entry of shown.values()) renderRequest(entry);
    renderNotifications(enrolment, device, notify);
    refreshEmpty();
  };
  render();
  if (greeting !== undefined) note(greeting, 'good');
  title.focus();
  rerender = () => {
    const status = connection.dataset['state'];
    render();
    connection.textContent = status === 'open' ? t.connected : status === 'offline' ? t.offline : t.connecting;
  };

  window.addEventListener('offline', () => {
    connection.dataset['state'] = 'offline';
    connection.textContent = t.offline;
  }, { signal: stop.signal });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && connection.dataset['state'] === 'open') void reconcile().catch(() => {});
  }, { signal: stop.signal });
  navigator.serviceWorker?.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: string; id?: string };
    if (data.type === 'open' && typeof data.id === 'string') void device.request(data.id).then((r) => add(r, true)).catch(() => {});
  }, { signal: stop.signal });
  const opened = new URLSearchParams(location.hash.slice(1)).get('request');
  if (opened !== null) void device.request(opened).then((r) => add(r, true)).catch(() => {});

  void follow(
    device,
    {
      onOpen: () => {
        connection.dataset['state'] = 'open';
        connection.textContent = t.connected;
        void reconcile().catch(() => {});
      },
      onRequest: (r) => add(r, true),
      onWithdrawn: (w) => {
        const entry = shown.get(w.id);
        if (entry === undefined || entry.busy) return;
        remove(w.id, w.status === 'expired' ? t.expired(entry.request.application) : t.withdrawn(entry.request.application), w.status === 'expired' ? 'bad' : 'info');
      },
      onRevoked: () => void revokedLocally(t.removed),
      onRetry: (delay) => {
        connection.dataset['state'] = navigator.onLine ? 'retry' : 'offline';
        connection.textContent = navigator.onLine ? t.reconnecting(Math.ceil(delay / 1000)) : t.offline;
      },
      onRefused: (error) => {
        connection.dataset['state'] = 'refused';
        connection.textContent = error.status === 401 ? t.refused : errorText(error);
      },
    },
    stop.signal,
  );
}

// ---------------------------------------------------------------- push

function renderNotifications(enrolment: Enrolment, device: DeviceApi, slot: HTMLElement): void {
  const status = h('p', { id: 'notify-status', role: 'status' });
  const available = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window && enrolment.vapidPublicKey !== null;
  if (!available) {
    replace(slot, h('h2', {}, t.notifications), h('p', { class: 'hint' }, t.notificationsUnavailable));
    return;
  }
  if (Notification.permission === 'denied') status.textContent = t.notificationsBlocked;
  const button = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        button.disabled = true;
        try {
          if ((await Notification.requestPermission()) !== 'granted') {
            status.textContent = t.notificationsBlocked;
            return;
          }
          const registration = await navigator.serviceWorker.ready;
          const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64url(enrolment.vapidPublicKey as string) });
          const json = subscription.toJSON();
          await device.setTransport({ type: 'webpush', subscription: { endpoint: json.endpoint, keys: json.keys } });
          status.textContent = t.notificationsOn;
        } catch {
          status.textContent = t.notificationsUnavailable;
        } finally {
          button.disabled = false;
        }
      },
    },
    t.enableNotifications,
  );
  replace(slot, h('h2', {}, t.notifications), button, status);
}

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  applyChrome();
  if ('serviceWorker' in navigator) void navigator.serviceWorker.register(`${base}sw.js`, { scope: base }).catch(() => {});
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (location.pathname.endsWith('/authenticator/enroll') && token !== null) {
    enrolView(token);
    return;
  }
  const enrolment = await loadEnrolment();
  if (enrolment === null) {
    replace(app, h('section', { class: 'card' }, h('h2', {}, t.notEnrolled), h('p', {}, t.notEnrolledHint)));
    rerender = () => void start();
    return;
  }
  homeView(enrolment);
}

void start();

import { h, replace } from '../../shared/dom.ts';
import { api, API, ApiError, appPath, type Application, type Device, type Person, type Verification } from '../api.ts';
import { t } from '../context.ts';
import { errorText } from '../errors.ts';
import { clock, spoken, time } from '../format.ts';
import { icon, openModal } from './modal.ts';

export interface DialogOptions {
  app: Application;
  person: Person;
  device: Device;
  opener: HTMLElement;
}

/** push: Verify caller (the customer answers on the device); code: Send code (the agent types the code the caller reads). */
type Mode = 'push' | 'code';

const FINAL = new Set(['approved', 'denied', 'failed', 'expired', 'cancelled', 'blocked']);
/** Remaining times (seconds) said to screen readers; the visible countdown ticks every second. */
const MILESTONES = [90, 60, 30, 10];
const RECONNECTS = 5;

/**
 * The live dialog of one verification: it starts it, follows its SSE stream, counts down the
 * caller's time, and shows the outcome with an icon and in words. Restart starts a new one on
 * the same device; closing while pending cancels it.
 */
export function verificationDialog(mode: Mode, options: DialogOptions): void {
  const { app, person, device } = options;
  const personName = person.display_name ?? person.email ?? person.phone ?? person.id;
  let current: Verification | undefined;
  let source: EventSource | undefined;
  let reconnects = 0;
  let deadline = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let spokenMilestones = new Set<number>();
  let lastCheck: 'wrong' | undefined;

  const modal = openModal({
    title: t(mode === 'push' ? 'verify.title' : 'code.title'),
    subtitle: t('dialog.subtitle', { person: personName, device: device.name }),
    opener: options.opener,
    className: `verification-dialog mode-${mode}`,
    onClose: () => {
      stop();
      if (current !== undefined && current.status === 'pending') void api('POST', `${appPath(app.id)}/verifications/${encodeURIComponent(current.id)}/cancel`).catch(() => {});
    },
  });

  const state = h('div', { class: 'state', 'data-state': 'starting' });
  const statusText = h('p', { class: 'status-text', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const statusDetail = h('p', { class: 'status-detail' });
  const steps = h('ol', { class: 'steps', 'aria-label': t('steps.label') });
  const match = h('div', { class: 'match', hidden: true });
  const entry = h('div', { class: 'entry', hidden: true });
  const timerValue = h('span', { class: 'timer', role: 'timer', 'aria-live': 'off', 'data-running': 'false' });
  const countdownLabel = h('span', { class: 'countdown-label' }, t('countdown.label'));
  const countdown = h('div', { class: 'countdown', hidden: true }, countdownLabel, timerValue);
  const announcer = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  const buttons = h('div', { class: 'buttons' });
  const stateIcon = h('div', { class: 'state-icon' });
  replace(state, stateIcon, h('div', { class: 'state-text' }, statusText, statusDetail));
  replace(modal.body, state, steps, match, entry, countdown, announcer, buttons);

  void start();

  function stop(): void {
    source?.close();
    source = undefined;
    clearInterval(ticker);
    ticker = undefined;
    timerValue.dataset['running'] = 'false';
  }

  async function start(): Promise<void> {
    stop();
    current = undefined;
    lastCheck = undefined;
    spokenMilestones = new Set();
    reconnects = 0;
    showStarting();
    try {
      const { verification } = await api<{ verification: Verification }>(
        'POST',
        `${appPath(app.id)}/people/${encodeURIComponent(person.id)}/${mode === 'push' ? 'verify-caller' : 'send-code'}`,
        { device_id: device.id },
      );
      if (!modal.dialog.open) {
        if (verification.status === 'pending') void api('POST', `${appPath(app.id)}/verifications/${encodeURIComponent(verification.id)}/cancel`).catch(() => {});
        return;
      }
      update(verification);
      if (!FINAL.has(verification.status)) follow(verification.id);
    } catch (error) {
      showRefused(error);
    }
  }

  function follow(id: string): void {
    const es = new EventSource(`${API}${appPath(app.id)}/verifications/${encodeURIComponent(id)}/stream`);
    source = es;
    es.addEventListener('verification', (event) => {
      reconnects = 0;
      const view = JSON.parse((event as MessageEvent<string>).data) as Verification;
      if (view.id !== current?.id) return;
      update(view);
    });
    es.addEventListener('error', () => {
      // The browser reconnects by itself unless the server refused the stream; then try anew a few times.
      if (es.readyState !== EventSource.CLOSED || source !== es || current === undefined || FINAL.has(current.status)) return;
      if (++reconnects > RECONNECTS) {
        statusDetail.textContent = t('dialog.connectionLost');
        return;
      }
      setTimeout(() => source === es && follow(id), 1000 * reconnects);
    });
  }

  function showStarting(): void {
    state.dataset['state'] = 'starting';
    replace(stateIcon, icon('pending'));
    statusText.textContent = t(mode === 'push' ? 'verify.sending' : 'code.sending');
    statusDetail.textContent = '';
    renderSteps('sending');
    match.hidden = true;
    entry.hidden = true;
    countdown.hidden = true;
    replace(buttons, h('button', { type: 'button', class: 'secondary', onclick: () => modal.close() }, t('dialog.close')));
  }

  function showRefused(error: unknown): void {
    state.dataset['state'] = 'refused';
    replace(stateIcon, icon('warning'));
    statusText.textContent = t('dialog.refused');
    statusDetail.textContent = errorText(error);
    replace(steps);
    countdown.hidden = true;
    const retry = !(error instanceof ApiError) || error.status >= 500 || error.code === 'push_cooldown';
    replace(
      buttons,
      retry && h('button', { type: 'button', onclick: () => void start() }, t('dialog.tryAgain')),
      h('button', { type: 'button', class: 'secondary', onclick: () => modal.close() }, t('dialog.close')),
    );
  }

  function renderSteps(at: 'sending' | 'sent' | 'waiting' | 'failed'): void {
    const order = ['sending', 'sent', 'waiting'] as const;
    const reached = at === 'failed' ? 0 : order.indexOf(at);
    const labels = mode === 'push' ? ['steps.sending', 'steps.sent', 'steps.waiting'] : ['steps.codeSending', 'steps.codeSent', 'steps.codeWaiting'];
    replace(
      steps,
      order.map((step, i) =>
        h(
          'li',
          { class: i < reached ? 'done' : i === reached ? 'current' : 'todo', 'aria-current': i === reached ? 'step' : undefined },
          h('span', { class: 'sr-only' }, i < reached ? t('steps.done') : i === reached ? t('steps.current') : t('steps.todo')),
          t(labels[i]!),
        ),
      ),
    );
  }

  function update(view: Verification): void {
    const before = current;
    current = view;
    // A final view says 0 s left; the countdown instead stops where it was when the answer came.
    if (view.status === 'pending' || before?.id !== view.id) deadline = performance.now() + Math.max(0, view.seconds_left) * 1000;
    state.dataset['state'] = view.status;
    state.dataset['verificationId'] = view.id;
    if (view.status === 'pending') showPending(view, before);
    else showFinal(view);
  }

  function showPending(view: Verification, before: Verification | undefined): void {
    const delivery = view.delivery ?? 'sent';
    const where = view.device_name ?? device.name;
    if (delivery === 'sending') {
      replace(stateIcon, icon('pending'));
      setStatus(t(mode === 'push' ? 'verify.sending' : 'code.sending'), '');
      renderSteps('sending');
    } else if (delivery === 'failed') {
      replace(stateIcon, icon('warning'));
      setStatus(t('dialog.deliveryFailed'), t('dialog.deliveryFailedDetail', { device: where }));
      renderSteps('failed');
    } else {
      replace(stateIcon, icon('sent'));
      if (mode === 'push') setStatus(t('verify.waiting', { device: where }), view.matching === 'read_back' ? t('verify.waitingReadBack') : t('verify.waitingDetail'));
      else setStatus(t('code.sent', { device: where }), t('code.sentDetail'));
      renderSteps('waiting');
    }

    // Number matching: pick shows the number the agent reads out; read_back asks for the code the caller reads.
    if (mode === 'push' && view.matching === 'pick' && view.match_number !== null) {
      match.hidden = false;
      replace(match, h('p', { id: 'match-label' }, t('verify.readNumber')), h('p', { class: 'match-number', 'aria-describedby': 'match-label' }, view.match_number));
    } else match.hidden = true;

    // A code can be typed as soon as the caller has it, whatever the delivery report says so far.
    const wantsCode = mode === 'code' || (view.matching === 'read_back' && view.awaiting_read_back);
    if (wantsCode) {
      if (entry.hidden || before?.id !== view.id) showEntry();
    } else entry.hidden = true;

    countdown.hidden = false;
    countdownLabel.textContent = t('countdown.label');
    if (ticker === undefined) {
      ticker = setInterval(tick, 250);
      timerValue.dataset['running'] = 'true';
    }
    tick();
    replace(
      buttons,
      h('button', { type: 'button', class: 'secondary', onclick: () => void cancel() }, t('dialog.cancel')),
    );
  }

  function showEntry(): void {
    entry.hidden = false;
    const input = h('input', {
      id: 'code-entry',
      inputmode: 'numeric',
      autocomplete: 'off',
      pattern: '[0-9]*',
      maxlength: '10',
      'aria-describedby': 'code-entry-hint code-entry-error',
    });
    const error = h('p', { id: 'code-entry-error', class: 'field-error', 'aria-live': 'assertive' });
    const submit = h('button', { type: 'submit' }, t('code.check'));
    const form = h(
      'form',
      {
        class: 'code-form',
        novalidate: true,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const code = input.value.replace(/\s+/g, '');
          if (!/^\d{4,10}$/.test(code)) {
            error.textContent = t('code.invalidFormat');
            input.setAttribute('aria-invalid', 'true');
            input.focus();
            return;
          }
          if (current === undefined) return;
          submit.disabled = true;
          try {
            const res = await api<{ verification: Verification; valid: boolean }>('POST', `${appPath(app.id)}/verifications/${encodeURIComponent(current.id)}/check`, { code });
            if (res.valid) {
              update(res.verification);
            } else {
              lastCheck = 'wrong';
              const left = res.verification.attempts_left;
              update(res.verification);
              if (res.verification.status === 'pending') {
                error.textContent = typeof left === 'number' ? t(left === 1 ? 'code.wrong.one' : 'code.wrong', { n: left }) : t('code.wrongNoCount');
                input.setAttribute('aria-invalid', 'true');
                input.select();
                input.focus();
              }
            }
          } catch (e) {
            error.textContent = errorText(e);
          } finally {
            submit.disabled = false;
          }
        },
      },
      h('label', { for: 'code-entry' }, t(mode === 'push' ? 'verify.readBackLabel' : 'code.label')),
      h('p', { id: 'code-entry-hint', class: 'hint' }, t(mode === 'push' ? 'verify.readBackHint' : 'code.hint')),
      h('div', { class: 'inline-form' }, input, submit),
      error,
    );
    replace(entry, form);
    input.focus();
  }

  function setStatus(text: string, detail: string): void {
    if (statusText.textContent !== text) statusText.textContent = text;
    statusDetail.textContent = detail;
  }

  function tick(): void {
    const left = Math.max(0, (deadline - performance.now()) / 1000);
    const face = clock(left);
    if (timerValue.textContent !== face) {
      timerValue.textContent = face;
      timerValue.setAttribute('aria-label', t('countdown.left', { time: spoken(left) }));
    }
    const whole = Math.ceil(left);
    for (const m of MILESTONES) {
      if (whole <= m && whole > m - 2 && !spokenMilestones.has(m)) {
        spokenMilestones.add(m);
        announcer.textContent = t('countdown.left', { time: spoken(m) });
      }
    }
    // The server decides expiry; at zero the stream brings "expired" (the face waits at 0:00).
  }

  async function cancel(): Promise<void> {
    if (current === undefined) return;
    try {
      const res = await api<{ verification: Verification }>('POST', `${appPath(app.id)}/verifications/${encodeURIComponent(current.id)}/cancel`);
      update(res.verification);
    } catch (error) {
      statusDetail.textContent = errorText(error);
    }
  }

  function showFinal(view: Verification): void {
    stop();
    // Expired is the server's word, whatever this page's timer says.
    if (view.status === 'expired') deadline = performance.now();
    tick();
    countdownLabel.textContent = t(view.status === 'expired' ? 'countdown.label' : 'countdown.stopped');
    match.hidden = true;
    entry.hidden = true;
    replace(steps);
    const kind = view.status === 'approved' ? 'approved' : view.status === 'expired' ? 'expired' : view.status === 'cancelled' ? 'warning' : 'denied';
    replace(stateIcon, icon(kind));
    const at = time(view.decided_at ?? Date.now());
    const method = view.user_verified_with === 'pin' || view.user_verified_with === 'biometric' || view.user_verified_with === 'webauthn' ? t(`method.${view.user_verified_with}`) : null;
    switch (view.status) {
      case 'approved':
        setStatus(
          t(mode === 'push' ? 'final.approved' : 'final.codeApproved'),
          mode === 'push' ? (method !== null ? t('final.approvedAtWith', { time: at, method }) : t('final.approvedAt', { time: at })) : t('final.approvedAt', { time: at }),
        );
        break;
      case 'denied':
        setStatus(t('final.denied'), reasonText(view.reason, 'final.deniedDetail'));
        break;
      case 'expired':
        setStatus(t('final.expired'), t(mode === 'push' ? 'final.expiredDetail' : 'final.codeExpiredDetail'));
        break;
      case 'failed':
        setStatus(t('final.failed'), reasonText(view.reason, lastCheck === 'wrong' ? 'final.failedAttempts' : 'final.failedDetail'));
        break;
      case 'blocked':
        setStatus(t('final.blocked'), reasonText(view.reason, 'final.blockedDetail'));
        break;
      default:
        setStatus(t('final.cancelled'), t('final.cancelledDetail'));
    }
    const restartable = view.status === 'denied' || view.status === 'expired' || view.status === 'failed';
    const restart = restartable ? h('button', { type: 'button', class: 'restart', onclick: () => void start() }, t(mode === 'push' ? 'dialog.restart' : 'dialog.newCode')) : null;
    const close = h('button', { type: 'button', class: restartable ? 'secondary' : '', onclick: () => modal.close() }, t('dialog.close'));
    replace(buttons, restart, close);
    // The Cancel button that had focus is gone: focus goes to the next thing to do.
    (restart ?? close).focus();
  }

  function reasonText(reason: string | null, fallback: string): string {
    if (reason !== null) {
      const key = `reason.${reason}`;
      const text = t(key);
      if (text !== key) return text;
    }
    return t(fallback);
  }
}

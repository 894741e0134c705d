import { h, replace } from '../../shared/dom.ts';
import { api, ApiError, type Session } from '../api.ts';
import { t } from '../context.ts';
import { errorText } from '../errors.ts';

/** E-mail and password; a refusal is said in text, in an alert, and focus returns to the form. */
export function signInPage(onSignedIn: (session: Session) => void): HTMLElement {
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { id: 'sign-in-error', class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, t('signIn.submit'));
  const form = h(
    'form',
    {
      class: 'card narrow',
      'aria-labelledby': 'sign-in-heading',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        replace(message);
        if (email.value.trim() === '' || password.value === '') {
          replace(message, t('signIn.missing'));
          (email.value.trim() === '' ? email : password).focus();
          return;
        }
        submit.disabled = true;
        submit.setAttribute('aria-busy', 'true');
        try {
          const session = await api<Session>('POST', '/sign-in', { email: email.value.trim(), password: password.value }, { quiet401: true });
          onSignedIn(session);
        } catch (error) {
          replace(message, error instanceof ApiError ? errorText(error) : t('error.unreachable'));
          password.value = '';
          password.focus();
        } finally {
          submit.disabled = false;
          submit.removeAttribute('aria-busy');
        }
      },
    },
    h('h1', { id: 'sign-in-heading', tabindex: '-1' }, t('signIn.title')),
    h('p', { class: 'muted' }, t('signIn.intro')),
    h('div', { class: 'field' }, h('label', { for: 'email' }, t('signIn.email')), email),
    h('div', { class: 'field' }, h('label', { for: 'password' }, t('signIn.password')), password),
    message,
    submit,
  );
  return h('main', { id: 'main', class: 'sign-in' }, form);
}

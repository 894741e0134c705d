import type { LocaleCatalog } from '../catalog.ts';
import { emailTemplate } from '../email-layout.ts';

/**
 * English. Plain, direct second person, as in US and UK banking apps. SMS texts keep to the
 * GSM 7-bit alphabet (straight apostrophes), so one SMS carries 160 characters, not 70.
 */
export const en: LocaleCatalog = {
  templates: {
    sms: {
      // The walkthrough in the README and the test helpers read "Your <app> code is <digits>.".
      authentication: { text: 'Your {app_name} code is {code}. It expires in {expires_in}. Never share it with anyone.' },
      transaction: { text: 'Your {app_name} code to approve a transaction is {code}. It expires in {expires_in}. Only use it for a transaction you made yourself.' },
      pairing: { text: 'Your {app_name} code to link a new device is {code}. It expires in {expires_in}. Never share it: {app_name} will never ask you for it.' },
      caller_verification: { text: 'Your {app_name} code is {code}. Only give it to {app_name} on a call you made yourself. It expires in {expires_in}.' },
    },
    email: {
      authentication: emailTemplate('en', {
        subject: 'Your {app_name} verification code',
        codeLine: 'Your {app_name} verification code is {code}.',
        codeLabel: 'Your {app_name} verification code is:',
        expiry: 'It expires in {expires_in}.',
        notice: 'If you didn’t ask for this code, you can ignore this email. Never share the code with anyone.',
      }),
      transaction: emailTemplate('en', {
        subject: 'Approve your {app_name} transaction',
        codeLine: 'Your {app_name} code to approve a transaction is {code}.',
        codeLabel: 'Your code to approve the transaction:',
        expiry: 'It expires in {expires_in}.',
        notice: 'Only use this code for a transaction you made yourself. If you didn’t make one, don’t use it and contact {app_name}.',
      }),
      pairing: emailTemplate('en', {
        subject: 'Link a new device to {app_name}',
        codeLine: 'Your {app_name} code to link a new device is {code}.',
        codeLabel: 'Your code to link a new device:',
        expiry: 'It expires in {expires_in}.',
        notice: 'Only use this code if you are setting up a new device yourself. Never share it: {app_name} will never ask you for it.',
      }),
      caller_verification: emailTemplate('en', {
        subject: 'Confirm it’s you on the phone with {app_name}',
        codeLine: 'Your {app_name} code to confirm it’s you on the phone is {code}.',
        codeLabel: 'Your code to confirm it’s you:',
        expiry: 'It expires in {expires_in}.',
        notice: 'Only give this code to {app_name} on a call you made yourself. If someone called you and asked for it, hang up.',
      }),
    },
    voice: {
      authentication: { text: 'Your {app_name} code is {code}. Again: {code}.' },
      transaction: { text: 'Your {app_name} code to approve a transaction is {code}. Again: {code}.' },
      pairing: { text: 'Your {app_name} code to link a new device is {code}. Again: {code}.' },
      caller_verification: { text: 'Your {app_name} code to confirm it’s you on the phone is {code}. Again: {code}.' },
    },
    push: {
      authentication: { title: 'Approve sign-in to {app_name}?', text: 'Tap to review the request. If you aren’t signing in right now, deny it.' },
      transaction: { title: 'Approve a transaction in {app_name}?', text: 'Check the details before you approve. If you didn’t make this transaction, deny it.' },
      pairing: { title: 'Link a new device to {app_name}?', text: 'Only approve if you are setting up a new device yourself right now.' },
      caller_verification: { title: 'Are you on the phone with {app_name}?', text: 'Approve to confirm it’s you. If you didn’t call {app_name} yourself, deny it.' },
    },
  },
  expiresAt: { today: 'today at {time}', tomorrow: 'tomorrow at {time}', later: 'on {date} at {time}' },
};

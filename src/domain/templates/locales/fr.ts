import type { LocaleCatalog } from '../catalog.ts';
import { emailTemplate } from '../email-layout.ts';

/**
 * French, with "vous", as every French, Belgian and Swiss bank writes. Banks "valident une
 * opération" rather than approve a transaction. French typography: a no-break space (U+00A0)
 * before ":" and a narrow one (U+202F) before "?", and the apostrophe ’. An SMS is folded to
 * plain spaces and ' when that keeps it in the GSM 7-bit alphabet (see render.ts).
 */
export const fr: LocaleCatalog = {
  templates: {
    sms: {
      authentication: { text: 'Votre code {app_name} est {code}. Il est valable {expires_in}. Ne le communiquez à personne.' },
      transaction: { text: 'Votre code pour valider une opération {app_name} est {code}. Il est valable {expires_in}. Ne l’utilisez que pour vos propres opérations.' },
      pairing: { text: 'Votre code pour associer un appareil à {app_name} est {code}. Il est valable {expires_in}. Ne le donnez à personne\u00A0: {app_name} ne vous le demandera jamais.' },
      caller_verification: { text: 'Votre code {app_name} est {code}. Ne le donnez que si c’est vous qui avez appelé {app_name}. Il est valable {expires_in}.' },
    },
    email: {
      authentication: emailTemplate('fr', {
        subject: 'Votre code de vérification {app_name}',
        codeLine: 'Votre code de vérification {app_name} est {code}.',
        codeLabel: 'Votre code de vérification {app_name}\u00A0:',
        expiry: 'Il est valable {expires_in}.',
        notice: 'Si vous n’avez pas demandé ce code, vous pouvez ignorer cet e-mail. Ne communiquez jamais ce code à personne.',
      }),
      transaction: emailTemplate('fr', {
        subject: 'Validez votre opération {app_name}',
        codeLine: 'Votre code pour valider une opération {app_name} est {code}.',
        codeLabel: 'Votre code pour valider l’opération\u00A0:',
        expiry: 'Il est valable {expires_in}.',
        notice: 'N’utilisez ce code que pour une opération dont vous êtes à l’origine. Sinon, ne l’utilisez pas et contactez {app_name}.',
      }),
      pairing: emailTemplate('fr', {
        subject: 'Associer un nouvel appareil à {app_name}',
        codeLine: 'Votre code pour associer un nouvel appareil à {app_name} est {code}.',
        codeLabel: 'Votre code pour associer un nouvel appareil\u00A0:',
        expiry: 'Il est valable {expires_in}.',
        notice: 'N’utilisez ce code que si vous configurez vous-même un nouvel appareil. Ne le communiquez à personne\u00A0: {app_name} ne vous le demandera jamais.',
      }),
      caller_verification: emailTemplate('fr', {
        subject: 'Confirmez votre identité auprès de {app_name}',
        codeLine: 'Votre code pour confirmer votre identité auprès de {app_name} est {code}.',
        codeLabel: 'Votre code pour confirmer votre identité\u00A0:',
        expiry: 'Il est valable {expires_in}.',
        notice: 'Ne donnez ce code que si c’est vous qui avez appelé {app_name}. Si l’on vous a appelé pour vous le demander, raccrochez.',
      }),
    },
    voice: {
      authentication: { text: 'Votre code {app_name} est {code}. Je répète\u00A0: {code}.' },
      transaction: { text: 'Votre code pour valider une opération {app_name} est {code}. Je répète\u00A0: {code}.' },
      pairing: { text: 'Votre code pour associer un nouvel appareil à {app_name} est {code}. Je répète\u00A0: {code}.' },
      caller_verification: { text: 'Votre code pour confirmer votre identité auprès de {app_name} est {code}. Je répète\u00A0: {code}.' },
    },
    push: {
      authentication: { title: 'Approuver la connexion à {app_name}\u202F?', text: 'Appuyez pour vérifier la demande. Si vous n’êtes pas en train de vous connecter, refusez-la.' },
      transaction: { title: 'Valider une opération {app_name}\u202F?', text: 'Vérifiez les détails avant de valider. Si vous n’êtes pas à l’origine de cette opération, refusez-la.' },
      pairing: { title: 'Associer un nouvel appareil à {app_name}\u202F?', text: 'N’approuvez que si vous êtes en train de configurer vous-même un nouvel appareil.' },
      caller_verification: { title: 'Êtes-vous en ligne avec {app_name}\u202F?', text: 'Approuvez pour confirmer que c’est bien vous. Si vous n’avez pas appelé {app_name} vous-même, refusez.' },
    },
  },
  expiresAt: { today: 'aujourd’hui à {time}', tomorrow: 'demain à {time}', later: 'le {date} à {time}' },
};

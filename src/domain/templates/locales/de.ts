import type { LocaleCatalog } from '../catalog.ts';
import { emailTemplate } from '../email-layout.ts';

/**
 * German, with "Sie", as Sparkasse, Deutsche Bank and Commerzbank write (and banks in Austria
 * and Switzerland); neobanks' "du" is left to an application's own templates. "Freigeben" is the
 * banking word for approving a transaction. "{app_name}-Code" is avoided: a name of several
 * words would need hyphens throughout ("Acme-Bank-Code"), so the code is "für {app_name}".
 * Times read "um 14:58 Uhr".
 */
export const de: LocaleCatalog = {
  templates: {
    sms: {
      authentication: { text: 'Ihr Code für {app_name} lautet {code}. Er ist {expires_in} gültig. Geben Sie ihn niemals weiter.' },
      transaction: { text: 'Ihr Code zur Freigabe einer Transaktion bei {app_name} lautet {code}. Er ist {expires_in} gültig. Nutzen Sie ihn nur für Ihre eigene Transaktion.' },
      pairing: { text: 'Ihr Code zum Verknüpfen eines neuen Geräts mit {app_name} lautet {code}. Er ist {expires_in} gültig. Geben Sie ihn nicht weiter: {app_name} fragt nie danach.' },
      caller_verification: { text: 'Ihr Code für {app_name} lautet {code}. Nennen Sie ihn nur, wenn Sie selbst {app_name} angerufen haben. Er ist {expires_in} gültig.' },
    },
    email: {
      authentication: emailTemplate('de', {
        subject: 'Ihr Bestätigungscode für {app_name}',
        codeLine: 'Ihr Bestätigungscode für {app_name} lautet {code}.',
        codeLabel: 'Ihr Bestätigungscode für {app_name} lautet:',
        expiry: 'Er ist {expires_in} gültig.',
        notice: 'Wenn Sie diesen Code nicht angefordert haben, können Sie diese E-Mail ignorieren. Geben Sie den Code niemals weiter.',
      }),
      transaction: emailTemplate('de', {
        subject: 'Transaktion bei {app_name} freigeben',
        codeLine: 'Ihr Code zur Freigabe einer Transaktion bei {app_name} lautet {code}.',
        codeLabel: 'Ihr Code zur Freigabe der Transaktion:',
        expiry: 'Er ist {expires_in} gültig.',
        notice: 'Nutzen Sie diesen Code nur für eine Transaktion, die Sie selbst veranlasst haben. Andernfalls verwenden Sie ihn nicht und wenden Sie sich an {app_name}.',
      }),
      pairing: emailTemplate('de', {
        subject: 'Neues Gerät mit {app_name} verknüpfen',
        codeLine: 'Ihr Code zum Verknüpfen eines neuen Geräts mit {app_name} lautet {code}.',
        codeLabel: 'Ihr Code zum Verknüpfen eines neuen Geräts:',
        expiry: 'Er ist {expires_in} gültig.',
        notice: 'Verwenden Sie diesen Code nur, wenn Sie selbst ein neues Gerät einrichten. Geben Sie ihn niemals weiter: {app_name} fragt nie danach.',
      }),
      caller_verification: emailTemplate('de', {
        subject: 'Bestätigen Sie am Telefon mit {app_name}, dass Sie es sind',
        codeLine: 'Ihr Code zur Identifizierung am Telefon mit {app_name} lautet {code}.',
        codeLabel: 'Ihr Code zur Identifizierung:',
        expiry: 'Er ist {expires_in} gültig.',
        notice: 'Nennen Sie diesen Code nur, wenn Sie {app_name} selbst angerufen haben. Wurden Sie angerufen und nach diesem Code gefragt, legen Sie auf.',
      }),
    },
    voice: {
      authentication: { text: 'Ihr Code für {app_name} lautet {code}. Ich wiederhole: {code}.' },
      transaction: { text: 'Ihr Code zur Freigabe einer Transaktion bei {app_name} lautet {code}. Ich wiederhole: {code}.' },
      pairing: { text: 'Ihr Code zum Verknüpfen eines neuen Geräts mit {app_name} lautet {code}. Ich wiederhole: {code}.' },
      caller_verification: { text: 'Ihr Code zur Identifizierung am Telefon mit {app_name} lautet {code}. Ich wiederhole: {code}.' },
    },
    push: {
      authentication: { title: 'Anmeldung bei {app_name} bestätigen?', text: 'Tippen Sie, um die Anfrage zu prüfen. Wenn Sie sich gerade nicht selbst anmelden, lehnen Sie sie ab.' },
      transaction: { title: 'Transaktion bei {app_name} freigeben?', text: 'Prüfen Sie die Details, bevor Sie freigeben. Wenn Sie diese Transaktion nicht selbst veranlasst haben, lehnen Sie sie ab.' },
      pairing: { title: 'Neues Gerät mit {app_name} verknüpfen?', text: 'Bestätigen Sie nur, wenn Sie gerade selbst ein neues Gerät einrichten.' },
      caller_verification: { title: 'Telefonieren Sie gerade mit {app_name}?', text: 'Bestätigen Sie, dass Sie es sind. Wenn Sie {app_name} nicht selbst angerufen haben, lehnen Sie ab.' },
    },
  },
  expiresAt: { today: 'heute um {time} Uhr', tomorrow: 'morgen um {time} Uhr', later: 'am {date} um {time} Uhr' },
};

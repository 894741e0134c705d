import type { LocaleCatalog } from '../catalog.ts';
import { emailTemplate } from '../email-layout.ts';

/**
 * Spanish, with "usted". Spanish neobanks write "tú", but these messages serve every es-*
 * locale, and "usted" is the one register that reads right in Spain, Mexico and Argentina
 * (where "tú" would be foreign and "vos" local). Banks "autorizan una operación".
 *
 * The SMS texts say "clave", not "código", and avoid á, í, ó, ú: those are not in the GSM 7-bit
 * alphabet, and one of them turns an SMS into UCS-2, 70 characters a part instead of 160, which
 * doubles what most of these messages cost. "Clave" is the usual banking word for a one-time
 * code in an SMS ("clave SMS"); accents are never dropped from words that need them.
 */
export const es: LocaleCatalog = {
  templates: {
    sms: {
      authentication: { text: 'Su clave de {app_name} es {code}. Caduca en {expires_in}. No la comparta con nadie.' },
      transaction: { text: 'Su clave para autorizar la orden en {app_name} es {code}. Caduca en {expires_in}. No la utilice si no ha dado usted esa orden.' },
      pairing: { text: 'Su clave para vincular un nuevo dispositivo a {app_name} es {code}. Caduca en {expires_in}. No la comparta: {app_name} nunca se la va a pedir.' },
      caller_verification: { text: 'Su clave de {app_name} es {code}. Solo debe darla si es usted quien ha llamado a {app_name}. Caduca en {expires_in}.' },
    },
    email: {
      authentication: emailTemplate('es', {
        subject: 'Su código de verificación de {app_name}',
        codeLine: 'Su código de verificación de {app_name} es {code}.',
        codeLabel: 'Su código de verificación de {app_name} es:',
        expiry: 'Caduca en {expires_in}.',
        notice: 'Si no ha solicitado este código, puede ignorar este correo. No lo comparta nunca con nadie.',
      }),
      transaction: emailTemplate('es', {
        subject: 'Autorice su operación en {app_name}',
        codeLine: 'Su código para autorizar una operación en {app_name} es {code}.',
        codeLabel: 'Su código para autorizar la operación:',
        expiry: 'Caduca en {expires_in}.',
        notice: 'Use este código solo para una operación que haya iniciado usted. Si no es así, no lo use y póngase en contacto con {app_name}.',
      }),
      pairing: emailTemplate('es', {
        subject: 'Vincular un nuevo dispositivo a {app_name}',
        codeLine: 'Su código para vincular un nuevo dispositivo a {app_name} es {code}.',
        codeLabel: 'Su código para vincular un nuevo dispositivo:',
        expiry: 'Caduca en {expires_in}.',
        notice: 'Use este código solo si está configurando usted mismo un nuevo dispositivo. No lo comparta: {app_name} nunca se lo pedirá.',
      }),
      caller_verification: emailTemplate('es', {
        subject: 'Confirme su identidad ante {app_name}',
        codeLine: 'Su código para confirmar su identidad ante {app_name} es {code}.',
        codeLabel: 'Su código para confirmar su identidad:',
        expiry: 'Caduca en {expires_in}.',
        notice: 'Facilite este código solo si es usted quien ha llamado a {app_name}. Si le han llamado para pedírselo, cuelgue.',
      }),
    },
    voice: {
      authentication: { text: 'Su código de {app_name} es {code}. Repito: {code}.' },
      transaction: { text: 'Su código para autorizar una operación en {app_name} es {code}. Repito: {code}.' },
      pairing: { text: 'Su código para vincular un nuevo dispositivo a {app_name} es {code}. Repito: {code}.' },
      caller_verification: { text: 'Su código para confirmar su identidad ante {app_name} es {code}. Repito: {code}.' },
    },
    push: {
      authentication: { title: '¿Aprobar el inicio de sesión en {app_name}?', text: 'Toque para revisar la solicitud. Si no está iniciando sesión ahora, recházela.' },
      transaction: { title: '¿Autorizar una operación en {app_name}?', text: 'Revise los datos antes de autorizarla. Si no ha iniciado usted esta operación, recházela.' },
      pairing: { title: '¿Vincular un nuevo dispositivo a {app_name}?', text: 'Apruebe la solicitud solo si está configurando usted mismo un nuevo dispositivo en este momento.' },
      caller_verification: { title: '¿Está hablando por teléfono con {app_name}?', text: 'Apruebe para confirmar que es usted. Si no ha llamado usted a {app_name}, rechace la solicitud.' },
    },
  },
  // "a la 1:05", "a las 2:05": the article agrees with the hour as said.
  expiresAt: {
    today: 'hoy {hour, plural, =1 {a la} other {a las}} {time}',
    tomorrow: 'mañana {hour, plural, =1 {a la} other {a las}} {time}',
    later: 'el {date} {hour, plural, =1 {a la} other {a las}} {time}',
  },
};

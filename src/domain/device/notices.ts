import { IntlMessageFormat } from 'intl-messageformat';

/**
 * Security notices about a user's devices (SEC-28): when a device is paired or removed, the
 * user hears of it on the other addresses they have, so that a device linked by someone else
 * does not go unnoticed; likewise when the account's phone number changes (SEC-12), with the new
 * number masked in {device_name}. Plain words per language; {app_name} and {device_name} only.
 */
export type DeviceNoticeKind = 'paired' | 'unpaired' | 'phone_changed';

interface NoticeWords {
  subject: string;
  text: string;
}

const NOTICES: Readonly<Record<string, Record<DeviceNoticeKind, NoticeWords>>> = {
  en: {
    paired: {
      subject: 'A new device was linked to your {app_name} account',
      text: '{app_name}: a new device, "{device_name}", was linked to your account. If this wasn\'t you, contact {app_name} now.',
    },
    unpaired: {
      subject: 'A device was removed from your {app_name} account',
      text: '{app_name}: the device "{device_name}" was removed from your account. If this wasn\'t you, contact {app_name} now.',
    },
    phone_changed: {
      subject: 'The phone number of your {app_name} account was changed',
      text: '{app_name}: the phone number of your account was changed to {device_name}. If this wasn\'t you, contact {app_name} now.',
    },
  },
  nl: {
    paired: {
      subject: 'Er is een nieuw apparaat gekoppeld aan je {app_name}-account',
      text: '{app_name}: er is een nieuw apparaat, "{device_name}", gekoppeld aan je account. Was jij dit niet? Neem dan nu contact op met {app_name}.',
    },
    unpaired: {
      subject: 'Er is een apparaat verwijderd uit je {app_name}-account',
      text: '{app_name}: het apparaat "{device_name}" is verwijderd uit je account. Was jij dit niet? Neem dan nu contact op met {app_name}.',
    },
    phone_changed: {
      subject: 'Het telefoonnummer van je {app_name}-account is gewijzigd',
      text: '{app_name}: het telefoonnummer van je account is gewijzigd in {device_name}. Was jij dit niet? Neem dan nu contact op met {app_name}.',
    },
  },
  de: {
    paired: {
      subject: 'Ein neues Gerät wurde mit Ihrem {app_name}-Konto verknüpft',
      text: '{app_name}: Ein neues Gerät, "{device_name}", wurde mit Ihrem Konto verknüpft. Waren Sie das nicht? Wenden Sie sich jetzt an {app_name}.',
    },
    unpaired: {
      subject: 'Ein Gerät wurde aus Ihrem {app_name}-Konto entfernt',
      text: '{app_name}: Das Gerät "{device_name}" wurde aus Ihrem Konto entfernt. Waren Sie das nicht? Wenden Sie sich jetzt an {app_name}.',
    },
    phone_changed: {
      subject: 'Die Telefonnummer Ihres {app_name}-Kontos wurde geändert',
      text: '{app_name}: Die Telefonnummer Ihres Kontos wurde in {device_name} geändert. Waren Sie das nicht? Wenden Sie sich jetzt an {app_name}.',
    },
  },
  fr: {
    paired: {
      subject: 'Un nouvel appareil a été associé à votre compte {app_name}',
      text: '{app_name} : un nouvel appareil, "{device_name}", a été associé à votre compte. Si ce n\'était pas vous, contactez {app_name} dès maintenant.',
    },
    unpaired: {
      subject: 'Un appareil a été retiré de votre compte {app_name}',
      text: '{app_name} : l\'appareil "{device_name}" a été retiré de votre compte. Si ce n\'était pas vous, contactez {app_name} dès maintenant.',
    },
    phone_changed: {
      subject: 'Le numéro de téléphone de votre compte {app_name} a été modifié',
      text: '{app_name} : le numéro de téléphone de votre compte a été remplacé par {device_name}. Si ce n\'était pas vous, contactez {app_name} dès maintenant.',
    },
  },
  es: {
    paired: {
      subject: 'Se ha vinculado un nuevo dispositivo a tu cuenta de {app_name}',
      text: '{app_name}: se ha vinculado un nuevo dispositivo, "{device_name}", a tu cuenta. Si no has sido tú, contacta ahora con {app_name}.',
    },
    unpaired: {
      subject: 'Se ha quitado un dispositivo de tu cuenta de {app_name}',
      text: '{app_name}: se ha quitado el dispositivo "{device_name}" de tu cuenta. Si no has sido tú, contacta ahora con {app_name}.',
    },
    phone_changed: {
      subject: 'Se ha cambiado el número de teléfono de tu cuenta de {app_name}',
      text: '{app_name}: el número de teléfono de tu cuenta se ha cambiado a {device_name}. Si no has sido tú, contacta ahora con {app_name}.',
    },
  },
};

/** The notice in the user's language (by its primary subtag), else English. */
export function renderDeviceNotice(kind: DeviceNoticeKind, locale: string, values: { appName: string; deviceName: string }): NoticeWords {
  const language = locale.split('-')[0]?.toLowerCase() ?? 'en';
  const words = (NOTICES[language] ?? NOTICES['en']!)[kind];
  const format = (source: string) =>
    String(new IntlMessageFormat(source, language, undefined, { ignoreTag: true }).format({ app_name: values.appName, device_name: values.deviceName }));
  return { subject: format(words.subject), text: format(words.text) };
}

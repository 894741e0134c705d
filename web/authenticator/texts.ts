/** The page's texts in English and Dutch. It follows navigator.language; the switch overrides it (kept in localStorage). */

export const LANGUAGES = ['en', 'nl'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  title: 'Outband authenticator',
  language: 'Language',
  loading: 'Loading…',
  notEnrolled: 'This browser is not set up as an authenticator yet.',
  notEnrolledHint: 'Open the enrolment link or scan the QR code you were given.',
  enrolTitle: 'Set up this device',
  enrolIntro: 'This browser becomes your authenticator. Approving a request will ask for your screen lock or fingerprint.',
  deviceName: 'Device name',
  deviceNameHint: 'So you recognise it later, for example “My phone”.',
  enrolButton: 'Set up this device',
  enrolling: 'Setting up… confirm with your screen lock or fingerprint.',
  enrolled: (name: string) => `This device is set up as “${name}”.`,
  enrolFailed: 'Setting up failed:',
  linkInvalid: 'This enrolment link is not valid any more. Ask for a new one.',
  noWebAuthn: 'This browser cannot verify you with a screen lock or fingerprint (WebAuthn), so it cannot be an authenticator.',
  deviceLabel: (name: string) => `Device: ${name}`,
  connected: 'Connected. New requests appear here.',
  connecting: 'Connecting…',
  reconnecting: (s: number) => `Connection lost. Trying again in ${s} s…`,
  offline: 'You are offline. Requests will appear when the connection is back.',
  removed: 'This device was removed on the server. Set it up again with a new enrolment link.',
  refused: 'The server refused this device. Check the date and time of this device, or set it up again.',
  noRequests: 'No requests waiting.',
  requestsHeading: 'Requests',
  newRequest: (app: string) => `New request from ${app}.`,
  asks: (app: string) => `${app} asks`,
  purpose: { authentication: 'Sign in', caller_verification: 'Caller verification', transaction: 'Approve a transaction', pairing: 'Pair a device' } as Record<string, string>,
  timeLeft: (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} left`,
  timeLeftLabel: 'Time left',
  pickPrompt: 'Tap the number you are shown or told',
  typePrompt: 'Code shown to you (6 digits)',
  approve: 'Approve',
  deny: 'Deny',
  denyConfirm: 'Deny this request',
  notMe: 'This wasn’t me',
  notMeHint: 'Choose “This wasn’t me” if you did not start this: the sender learns that someone else may be trying.',
  cancel: 'Cancel',
  working: 'Sending…',
  verifyPrompt: 'Confirm with your screen lock or fingerprint.',
  approved: (app: string) => `Approved. ${app} has been told.`,
  denied: (app: string) => `Denied. ${app} has been told.`,
  reported: (app: string) => `Reported. ${app} has been told this was not you.`,
  mismatch: 'That was not the right number, so the request was denied. If you did not start it, ignore it.',
  wrongCode: 'That code is not right. Try again.',
  failed: 'The request failed: too many wrong tries.',
  readBack: 'Read this code to the agent:',
  expired: (app: string) => `A request from ${app} expired before it was answered.`,
  withdrawn: (app: string) => `A request from ${app} was answered elsewhere or cancelled.`,
  notVerified: 'You were not verified, so nothing was sent. Try again.',
  error: 'Something went wrong:',
  notifications: 'Notifications',
  enableNotifications: 'Notify me of requests',
  notificationsOn: 'Notifications are on.',
  notificationsBlocked: 'Notifications are blocked in this browser.',
  notificationsUnavailable: 'Notifications are not available here; keep this page open to receive requests.',
  forget: 'Remove this device from this browser',
};

export type Texts = typeof en;

const nl: Texts = {
  title: 'Outband-authenticator',
  language: 'Taal',
  loading: 'Laden…',
  notEnrolled: 'Deze browser is nog niet ingesteld als authenticator.',
  notEnrolledHint: 'Open de koppellink of scan de QR-code die je hebt gekregen.',
  enrolTitle: 'Dit apparaat instellen',
  enrolIntro: 'Deze browser wordt je authenticator. Bij goedkeuren vragen we je schermvergrendeling of vingerafdruk.',
  deviceName: 'Naam van het apparaat',
  deviceNameHint: 'Zodat je het later herkent, bijvoorbeeld „Mijn telefoon”.',
  enrolButton: 'Dit apparaat instellen',
  enrolling: 'Bezig met instellen… bevestig met je schermvergrendeling of vingerafdruk.',
  enrolled: (name) => `Dit apparaat is ingesteld als „${name}”.`,
  enrolFailed: 'Instellen mislukt:',
  linkInvalid: 'Deze koppellink is niet meer geldig. Vraag een nieuwe aan.',
  noWebAuthn: 'Deze browser kan je niet controleren met schermvergrendeling of vingerafdruk (WebAuthn) en kan dus geen authenticator zijn.',
  deviceLabel: (name) => `Apparaat: ${name}`,
  connected: 'Verbonden. Nieuwe verzoeken verschijnen hier.',
  connecting: 'Verbinden…',
  reconnecting: (s) => `Verbinding verbroken. Nieuwe poging over ${s} s…`,
  offline: 'Je bent offline. Verzoeken verschijnen zodra de verbinding terug is.',
  removed: 'Dit apparaat is op de server verwijderd. Stel het opnieuw in met een nieuwe koppellink.',
  refused: 'De server weigert dit apparaat. Controleer datum en tijd van dit apparaat, of stel het opnieuw in.',
  noRequests: 'Geen verzoeken.',
  requestsHeading: 'Verzoeken',
  newRequest: (app) => `Nieuw verzoek van ${app}.`,
  asks: (app) => `${app} vraagt`,
  purpose: { authentication: 'Inloggen', caller_verification: 'Controle van de beller', transaction: 'Een transactie goedkeuren', pairing: 'Een apparaat koppelen' },
  timeLeft: (s) => `nog ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`,
  timeLeftLabel: 'Resterende tijd',
  pickPrompt: 'Tik op het getal dat je ziet of hoort',
  typePrompt: 'De code die je ziet (6 cijfers)',
  approve: 'Goedkeuren',
  deny: 'Weigeren',
  denyConfirm: 'Dit verzoek weigeren',
  notMe: 'Dit was ik niet',
  notMeHint: 'Kies „Dit was ik niet” als je dit niet zelf hebt gestart: de afzender weet dan dat iemand anders het misschien probeert.',
  cancel: 'Annuleren',
  working: 'Versturen…',
  verifyPrompt: 'Bevestig met je schermvergrendeling of vingerafdruk.',
  approved: (app) => `Goedgekeurd. ${app} is op de hoogte.`,
  denied: (app) => `Geweigerd. ${app} is op de hoogte.`,
  reported: (app) => `Gemeld. ${app} weet nu dat jij dit niet was.`,
  mismatch: 'Dat was niet het juiste getal, dus het verzoek is geweigerd. Heb je het niet zelf gestart, negeer het dan.',
  wrongCode: 'Die code klopt niet. Probeer het opnieuw.',
  failed: 'Het verzoek is mislukt: te vaak verkeerd.',
  readBack: 'Lees deze code voor aan de medewerker:',
  expired: (app) => `Een verzoek van ${app} is verlopen voordat het beantwoord werd.`,
  withdrawn: (app) => `Een verzoek van ${app} is elders beantwoord of ingetrokken.`,
  notVerified: 'Je bent niet bevestigd, dus er is niets verstuurd. Probeer het opnieuw.',
  error: 'Er ging iets mis:',
  notifications: 'Meldingen',
  enableNotifications: 'Meld mij nieuwe verzoeken',
  notificationsOn: 'Meldingen staan aan.',
  notificationsBlocked: 'Meldingen zijn geblokkeerd in deze browser.',
  notificationsUnavailable: 'Meldingen zijn hier niet beschikbaar; houd deze pagina open om verzoeken te ontvangen.',
  forget: 'Dit apparaat uit deze browser verwijderen',
};

const ALL: Record<Language, Texts> = { en, nl };

export function initialLanguage(): Language {
  const saved = localStorage.getItem('outband.language');
  if (saved === 'en' || saved === 'nl') return saved;
  return navigator.language.toLowerCase().startsWith('nl') ? 'nl' : 'en';
}

export function textsFor(language: Language): Texts {
  return ALL[language];
}

export function saveLanguage(language: Language): void {
  localStorage.setItem('outband.language', language);
}

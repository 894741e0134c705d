import type { LocaleCatalog } from '../catalog.ts';
import { emailTemplate } from '../email-layout.ts';

/**
 * Dutch, with "u". Dutch banks are split (ING and bunq write "je", DigiD and most Belgian banks
 * "u"); these messages also serve nl-BE, where "je" reads as too familiar from an unknown
 * sender, and "u" is what DigiD's own codes use. An application that prefers "je" saves its
 * own templates. "{app_name}-code" is avoided: a name of several words ("Acme Bank") cannot
 * be coupled that way, so the code is "voor {app_name}".
 */
export const nl: LocaleCatalog = {
  templates: {
    sms: {
      authentication: { text: 'Uw code voor {app_name} is {code}. De code is {expires_in} geldig. Deel hem nooit met anderen.' },
      transaction: { text: 'Uw code om een transactie bij {app_name} te bevestigen is {code}. De code is {expires_in} geldig. Gebruik hem alleen voor uw eigen transactie.' },
      pairing: { text: 'Uw code om een nieuw apparaat te koppelen aan {app_name} is {code}. De code is {expires_in} geldig. Deel hem nooit: {app_name} vraagt er nooit om.' },
      caller_verification: { text: 'Uw code voor {app_name} is {code}. Geef hem alleen door als u zelf {app_name} heeft gebeld. De code is {expires_in} geldig.' },
    },
    email: {
      authentication: emailTemplate('nl', {
        subject: 'Uw verificatiecode voor {app_name}',
        codeLine: 'Uw verificatiecode voor {app_name} is {code}.',
        codeLabel: 'Uw verificatiecode voor {app_name} is:',
        expiry: 'De code is {expires_in} geldig.',
        notice: 'Heeft u deze code niet aangevraagd? Dan kunt u deze e-mail negeren. Deel de code nooit met anderen.',
      }),
      transaction: emailTemplate('nl', {
        subject: 'Bevestig uw transactie bij {app_name}',
        codeLine: 'Uw code om een transactie bij {app_name} te bevestigen is {code}.',
        codeLabel: 'Uw code om de transactie te bevestigen:',
        expiry: 'De code is {expires_in} geldig.',
        notice: 'Gebruik deze code alleen voor een transactie die u zelf heeft gedaan. Heeft u niets gedaan? Gebruik de code dan niet en neem contact op met {app_name}.',
      }),
      pairing: emailTemplate('nl', {
        subject: 'Nieuw apparaat koppelen aan {app_name}',
        codeLine: 'Uw code om een nieuw apparaat te koppelen aan {app_name} is {code}.',
        codeLabel: 'Uw code om een nieuw apparaat te koppelen:',
        expiry: 'De code is {expires_in} geldig.',
        notice: 'Gebruik deze code alleen als u zelf een nieuw apparaat instelt. Deel hem nooit: {app_name} vraagt er nooit om.',
      }),
      caller_verification: emailTemplate('nl', {
        subject: 'Bevestig dat u het bent aan de telefoon met {app_name}',
        codeLine: 'Uw code om te bevestigen dat u het bent aan de telefoon met {app_name} is {code}.',
        codeLabel: 'Uw code om te bevestigen dat u het bent:',
        expiry: 'De code is {expires_in} geldig.',
        notice: 'Geef deze code alleen door als u zelf {app_name} heeft gebeld. Wordt u gebeld en vraagt men om deze code? Hang dan op.',
      }),
    },
    voice: {
      authentication: { text: 'Uw code voor {app_name} is {code}. Ik herhaal: {code}.' },
      transaction: { text: 'Uw code om een transactie bij {app_name} te bevestigen is {code}. Ik herhaal: {code}.' },
      pairing: { text: 'Uw code om een nieuw apparaat te koppelen aan {app_name} is {code}. Ik herhaal: {code}.' },
      caller_verification: { text: 'Uw code om te bevestigen dat u het bent aan de telefoon met {app_name} is {code}. Ik herhaal: {code}.' },
    },
    push: {
      authentication: { title: 'Inloggen bij {app_name} goedkeuren?', text: 'Tik om het verzoek te bekijken. Logt u nu niet zelf in? Weiger het dan.' },
      transaction: { title: 'Transactie bij {app_name} bevestigen?', text: 'Controleer de gegevens voordat u bevestigt. Heeft u deze transactie niet zelf gedaan? Weiger het verzoek dan.' },
      pairing: { title: 'Nieuw apparaat koppelen aan {app_name}?', text: 'Keur dit alleen goed als u nu zelf een nieuw apparaat instelt.' },
      caller_verification: { title: 'Belt u met {app_name}?', text: 'Keur goed om te bevestigen dat u het bent. Heeft u {app_name} niet zelf gebeld? Weiger het dan.' },
    },
  },
  expiresAt: { today: 'vandaag om {time}', tomorrow: 'morgen om {time}', later: 'op {date} om {time}' },
};

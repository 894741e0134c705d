import type { Channel } from '../application.ts';
import { maskEmail, parseEmail } from './email.ts';
import { maskPhone, parsePhone } from './phone.ts';

/** The normalised address a channel sends to: E.164 for phone channels, an e-mail otherwise. */
export function parseRecipient(channel: Channel, input: string, countryHint?: string): string {
  return channel === 'email' ? parseEmail(input) : parsePhone(input, countryHint).e164;
}

export function maskRecipient(channel: Channel, recipient: string): string {
  return channel === 'email' ? maskEmail(recipient) : maskPhone(recipient);
}

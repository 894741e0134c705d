import { OutbandError } from '../errors.ts';

// Deliberately plain: one @, a dotted domain, no spaces or controls. Mailbox providers
// accept far less than RFC 5322 allows, and an address that passes here may still bounce.
const SHAPE = /^[^\s\u0000-\u001f\u007f-\u009f@"<>()\[\],;:\\]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Validates and normalises an e-mail address (the domain is lower-cased). */
export function parseEmail(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length > 254 || !SHAPE.test(trimmed)) {
    throw new OutbandError('invalid_email', `"${input}" is not a valid e-mail address`);
  }
  const at = trimmed.lastIndexOf('@');
  const local = trimmed.slice(0, at);
  if (local.length > 64) throw new OutbandError('invalid_email', 'the part before @ is longer than 64 characters');
  return `${local}@${trimmed.slice(at + 1).toLowerCase()}`;
}

/** "j•••@example.com" */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, 1)}•••${address.slice(at)}`;
}

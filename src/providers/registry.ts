import { smtp } from './email/smtp.ts';
import { outbox } from './outbox.ts';
import { apns } from './push/apns.ts';
import { fcm } from './push/fcm.ts';
import { webpush } from './push/webpush.ts';
import { smpp } from './sms/smpp.ts';
import { webhook } from './sms/webhook.ts';
import { twilio } from './twilio.ts';
import type { ProviderDefinition } from './types.ts';

/** Every provider by its config name. Adding one: its file, and a line here. */
export const PROVIDERS: Readonly<Record<string, ProviderDefinition>> = {
  apns,
  fcm,
  outbox,
  smpp,
  smtp,
  twilio,
  webhook,
  webpush,
};

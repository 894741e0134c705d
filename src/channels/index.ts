import type { Channel } from '../domain/application.ts';
import { email } from './email/email.ts';
import { sms } from './sms/sms.ts';
import type { ChannelDefinition } from './types.ts';

export const CHANNEL_DEFINITIONS: Readonly<Record<Channel, ChannelDefinition>> = { sms, email };

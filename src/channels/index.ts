import type { Channel } from '../domain/application.ts';
import { email } from './email/email.ts';
import { missedCall } from './missed-call/missed-call.ts';
import { push } from './push/push.ts';
import { sms } from './sms/sms.ts';
import type { ChannelDefinition } from './types.ts';
import { voice } from './voice/voice.ts';

export const CHANNEL_DEFINITIONS: Readonly<Record<Channel, ChannelDefinition>> = { sms, email, voice, missed_call: missedCall, push };

import type { RenderedMessage } from '../domain/templates/render.ts';
import type { MessageReference, ProviderInstances, PushTarget, SendOptions, SendResult } from '../providers/types.ts';

/**
 * What is kept (sealed) for one message until it is sent: the rendered text for the message
 * channels, and for a missed call the caller id and how long to ring.
 */
export type OutgoingMessage = RenderedMessage & { callerId?: string; ringSeconds?: number; push?: PushMessage };

/** A push to one device: where its transport reaches it, the generic notice, and until when it matters. */
export interface PushMessage {
  target: PushTarget;
  title: string;
  body: string;
  expiresAt: number;
}

/** How a verification goes out on one channel. */
export interface ChannelDefinition {
  /** Which user field holds this channel's address (push goes to devices, not an address). */
  readonly userAddress: 'phone' | 'email' | null;
  /** Which side of a provider carries this channel. */
  readonly providerSide: 'sms' | 'email' | 'voice' | 'call' | 'push';
  /** Sends a message through the channel's provider. */
  send(providers: ProviderInstances, to: string, message: OutgoingMessage, reference: MessageReference, options: SendOptions): Promise<SendResult>;
}

import type { RenderedMessage } from '../domain/templates/render.ts';
import type { MessageReference, ProviderInstances, SendOptions, SendResult } from '../providers/types.ts';

/** How a verification goes out on one channel. */
export interface ChannelDefinition {
  /** Which user field holds this channel's address. */
  readonly userAddress: 'phone' | 'email';
  /** Sends a rendered message through the channel's provider. */
  send(providers: ProviderInstances, to: string, message: RenderedMessage, reference: MessageReference, options: SendOptions): Promise<SendResult>;
}

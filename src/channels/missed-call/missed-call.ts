import { ProviderError } from '../../providers/types.ts';
import type { ChannelDefinition } from '../types.ts';

/** A call from a pool number that rings and is dropped: the number's last digits are the code. */
export const missedCall: ChannelDefinition = {
  userAddress: 'phone',
  providerSide: 'call',
  async send(providers, to, message, reference, options) {
    if (providers.call === undefined) throw new ProviderError('no call provider is configured', { permanent: true });
    if (message.callerId === undefined) throw new ProviderError('the missed call has no caller id', { permanent: true });
    return providers.call.call({ to, from: message.callerId, ringSeconds: message.ringSeconds ?? 20, reference }, options);
  },
};

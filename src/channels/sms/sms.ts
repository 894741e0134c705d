import { ProviderError } from '../../providers/types.ts';
import type { ChannelDefinition } from '../types.ts';

export const sms: ChannelDefinition = {
  userAddress: 'phone',
  providerSide: 'sms',
  async send(providers, to, message, reference, options) {
    if (providers.sms === undefined) throw new ProviderError('no SMS provider is configured', { permanent: true });
    return providers.sms.send({ to, text: message.text, reference }, options);
  },
};

import { ProviderError } from '../../providers/types.ts';
import type { ChannelDefinition } from '../types.ts';

/** A call that speaks the code digit by digit, twice, in the verification's language. */
export const voice: ChannelDefinition = {
  userAddress: 'phone',
  providerSide: 'voice',
  async send(providers, to, message, reference, options) {
    if (providers.voice === undefined) throw new ProviderError('no voice provider is configured', { permanent: true });
    return providers.voice.send({ to, speech: message.text, ssml: message.ssml ?? '', language: message.voiceLanguage ?? 'en-US', reference }, options);
  },
};

import { ProviderError } from '../../providers/types.ts';
import type { ChannelDefinition } from '../types.ts';

/**
 * A push request goes to one device over the push service its authenticator registered. The
 * notice says only that a request waits; the authenticator fetches it over the signed device
 * API. A device on the `stream` transport needs no send: its open stream hears of the request.
 */
export const push: ChannelDefinition = {
  userAddress: null,
  providerSide: 'push',
  async send(providers, to, message, reference, options) {
    const notice = message.push;
    if (notice === undefined) throw new ProviderError('the push message has no target', { permanent: true });
    if (providers.push === undefined) throw new ProviderError(`no push provider is configured for ${notice.target.type}`, { permanent: true });
    const now = options.now ?? Date.now();
    const ttlSeconds = Math.max(0, Math.floor((notice.expiresAt - now) / 1000));
    if (ttlSeconds === 0) throw new ProviderError('the request expired before its push went out', { permanent: true });
    return providers.push.send(
      notice.target,
      { verificationId: reference.verificationId, deviceId: to, title: notice.title, body: notice.body, ttlSeconds, reference },
      options,
    );
  },
};

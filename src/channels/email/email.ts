import { ProviderError, type EmailMessage } from '../../providers/types.ts';
import type { ChannelDefinition } from '../types.ts';

export const email: ChannelDefinition = {
  userAddress: 'email',
  providerSide: 'email',
  async send(providers, to, message, reference, options) {
    if (providers.email === undefined) throw new ProviderError('no e-mail provider is configured', { permanent: true });
    const mail: EmailMessage = { to, subject: message.subject ?? '', text: message.text, reference };
    if (message.html !== undefined) mail.html = message.html;
    return providers.email.send(mail, options);
  },
};

import { parsePhone } from '../domain/address/phone.ts';
import { OutbandError } from '../domain/errors.ts';
import type { InboundSms } from '../providers/types.ts';
import type { Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { DuplicateWrite, type VerificationService } from './verifications.ts';

export type InboundOutcome = 'approved' | 'incorrect' | 'closed' | 'unmatched' | 'duplicate';

/** The code in a reply: a run of exactly the expected number of digits, or else all its digits. */
export function codeInReply(text: string, length: number): string {
  const exact = new RegExp(`(?<!\\d)\\d{${length}}(?!\\d)`).exec(text);
  return exact?.[0] ?? text.replace(/\D/g, '');
}

/**
 * Two-way SMS: a reply from the verification's own number that carries the code approves it
 * (SEC-18). The reply goes to the newest pending two-way verification for the sender's number;
 * a wrong code uses up an attempt there; a reply that matches nothing is recorded and ignored.
 * Each inbound message is recorded by its provider id in the same unit as its effect, so a
 * provider delivering it twice changes nothing the second time.
 */
export function createInboundSmsService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'logger'>, verifications: VerificationService) {
  return {
    async receive(message: InboundSms): Promise<InboundOutcome> {
      const now = deps.clock.now();
      let from: string | null = null;
      try {
        from = parsePhone(message.from.startsWith('+') ? message.from : `+${message.from}`).e164;
      } catch {
        from = null;
      }
      const log = deps.logger.child({ provider: message.provider, provider_message_id: message.providerMessageId });
      for (let round = 0; round < 8; round++) {
        const v = from === null ? undefined : await deps.store.verifications.newestTwoWayPending(from, now);
        const record: Write = {
          kind: 'inbound.insert',
          provider: message.provider,
          providerMessageId: message.providerMessageId,
          verificationId: v?.id ?? null,
          receivedAt: now,
        };
        if (v === undefined) {
          const result = await deps.store.commit({ writes: [record] });
          if (!result.ok && result.reason === 'duplicate') return 'duplicate';
          log.info('inbound sms matches no pending two-way verification');
          return 'unmatched';
        }
        try {
          const outcome = await verifications.checkReply(v, codeInReply(message.text, v.codeLength), `sms:${message.provider}`, [record]);
          log.info({ verification_id: v.id, outcome: outcome.kind }, 'inbound sms checked');
          if (outcome.kind === 'approved') return 'approved';
          if (outcome.kind === 'incorrect' || outcome.kind === 'failed') return 'incorrect';
          // It closed meanwhile (expired or answered): look for another pending one.
          continue;
        } catch (error) {
          // The unit failed on the inbound record's key: this message was processed already.
          if (error instanceof DuplicateWrite) return 'duplicate';
          if (error instanceof OutbandError && error.code === 'concurrent_update') continue;
          throw error;
        }
      }
      return 'closed';
    },
  };
}

export type InboundSmsService = ReturnType<typeof createInboundSmsService>;

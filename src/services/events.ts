import type { DomainEvent } from '../domain/event.ts';
import { newId, type RandomSource } from '../domain/random.ts';
import type { VerificationEvent } from '../domain/verification/verification.ts';
import type { Write } from '../store/store.ts';

/** The event.append writes for a verification's domain events. */
export function verificationEventWrites(
  events: readonly VerificationEvent[],
  context: { applicationId: string; verificationId: string; actor: string | null; now: number; random: RandomSource },
): Write[] {
  return events.map((e) => ({
    kind: 'event.append',
    event: {
      id: newId('evt', context.random),
      applicationId: context.applicationId,
      type: e.type,
      subjectType: 'verification',
      subjectId: context.verificationId,
      actor: context.actor,
      data: e.data,
      createdAt: context.now,
    } satisfies DomainEvent,
  }));
}

export function eventWrite(
  random: RandomSource,
  event: Omit<DomainEvent, 'id'>,
): Write {
  return { kind: 'event.append', event: { id: newId('evt', random), ...event } };
}

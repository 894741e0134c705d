import { maskRecipient } from '../domain/address/recipient.ts';
import { OutbandError } from '../domain/errors.ts';
import { PHONE_CHANGE, phoneBound, stepUpProblem, stepUpRequired } from '../domain/policy/step-up.ts';
import type { User } from '../domain/user.ts';
import type { Write } from '../store/store.ts';
import { contactNoticeWrites } from './device-notices.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';

/**
 * A user's phone number set or changed is the binding of a new authenticator (SEC-12): under the
 * nist profile it needs a step-up (src/domain/policy/step-up.ts), spent in the same unit as the
 * change so that it authorises one change only; under either profile it is recorded as
 * `authenticator.bound` and the user's addresses from before the change (their e-mail, their
 * old number) are told, in the same unit (SEC-28). The new number itself is not told: whoever
 * holds it is who the notice warns about.
 */
export function createPhoneBinding(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>) {
  return {
    /**
     * The writes that go with changing `before` into `after`: nothing when the number is kept or
     * cleared. Throws 403 step_up_required or step_up_invalid when the change is not authorised.
     */
    async writes(applicationId: string, before: User, after: User, stepUpId: string | undefined, actor: string, now: number): Promise<Write[]> {
      const phone = phoneBound(before, after);
      if (phone === null) return [];
      const app = await deps.store.applications.byId(applicationId);
      if (app === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
      if (stepUpId === undefined) {
        const devices = await deps.store.devices.forUser(app.id, before.id);
        if (stepUpRequired(app.settings.assuranceProfile, devices)) {
          throw new OutbandError(
            'step_up_required',
            'under the nist profile a new phone number is a new authenticator: authenticate the user first and give that verification as step_up_verification_id',
          );
        }
      } else {
        const [v, used] = await Promise.all([deps.store.verifications.byId(app.id, stepUpId), deps.store.stepUps.used(app.id, stepUpId)]);
        const problem = stepUpProblem(v, before, phone, now, used);
        if (problem !== null) throw new OutbandError('step_up_invalid', `step_up_verification_id does not authorise this change: ${problem}`);
      }
      const masked = maskRecipient('sms', phone);
      return [
        ...(stepUpId === undefined ? [] : [{ kind: 'stepUp.consume' as const, applicationId: app.id, verificationId: stepUpId, userId: before.id, usedFor: PHONE_CHANGE, at: now }]),
        eventWrite(deps.random, {
          applicationId: app.id,
          type: 'authenticator.bound',
          subjectType: 'user',
          subjectId: before.id,
          actor,
          data: {
            user_id: before.id,
            channel: 'phone',
            address: masked,
            previous: before.phone === null ? null : maskRecipient('sms', before.phone),
            step_up_verification_id: stepUpId ?? null,
          },
          createdAt: now,
        }),
        ...contactNoticeWrites(deps, app, before, { kind: 'phone_changed', name: masked, except: phone, subjectId: before.id }, now),
      ];
    },

    /** Whether a step-up was spent already: what a unit refused as a duplicate ran into, if not a taken external_id. */
    spent: (applicationId: string, stepUpId: string) => deps.store.stepUps.used(applicationId, stepUpId),
  };
}

export type PhoneBinding = ReturnType<typeof createPhoneBinding>;

import { parseEmail } from '../domain/address/email.ts';
import { parseLocale } from '../domain/address/locale.ts';
import { parsePhone } from '../domain/address/phone.ts';
import { OutbandError } from '../domain/errors.ts';
import { newId } from '../domain/random.ts';
import type { User, UserStatus } from '../domain/user.ts';
import type { UserLookup } from '../store/store.ts';
import { createPhoneBinding } from './authenticator-binding.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';
import { actorOf, type Principal } from './tokens.ts';

export interface UserInput {
  external_id?: string | null;
  email?: string | null;
  phone?: string | null;
  /** ISO 3166-1 alpha-2 country of a phone given in national form. */
  country?: string;
  display_name?: string | null;
  locale?: string | null;
  status?: UserStatus;
  /**
   * The id of a recent approved authentication of this user: the step-up a new phone number
   * needs under the nist profile (SEC-12); spent by the change.
   */
  step_up_verification_id?: string;
}

/** Applies an input's fields to a user, validating and normalising each (null clears). */
function applyInput(user: User, input: UserInput): User {
  const next = { ...user };
  if (input.external_id !== undefined) next.externalId = input.external_id;
  if (input.email !== undefined) next.email = input.email === null ? null : parseEmail(input.email);
  if (input.phone !== undefined) next.phone = input.phone === null ? null : parsePhone(input.phone, input.country).e164;
  if (input.display_name !== undefined) next.displayName = input.display_name;
  if (input.locale !== undefined) next.locale = input.locale === null ? null : parseLocale(input.locale);
  if (input.status !== undefined) next.status = input.status;
  return next;
}

/** The fields an event may carry: which changed, never their values (they are personal data). */
function changedFields(before: User, after: User): string[] {
  return (['externalId', 'email', 'phone', 'displayName', 'locale', 'status'] as const).filter((k) => before[k] !== after[k]);
}

export function createUserService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>, options: { wakeDelivery?: () => void } = {}) {
  const phoneBinding = createPhoneBinding(deps);

  async function load(principal: Principal, id: string): Promise<User> {
    const user = await deps.store.users.byId(principal.applicationId, id);
    if (user === undefined) throw new OutbandError('user_not_found', `no user ${id}`);
    return user;
  }

  return {
    async create(principal: Principal, input: UserInput): Promise<User> {
      const now = deps.clock.now();
      const blank: User = {
        id: newId('usr', deps.random),
        applicationId: principal.applicationId,
        externalId: null,
        email: null,
        phone: null,
        displayName: null,
        locale: null,
        status: 'active',
        createdAt: now,
        updatedAt: now,
        version: 0,
        bypassUntil: null,
      };
      const user = applyInput(blank, input);
      const result = await deps.store.commit({
        writes: [
          { kind: 'user.insert', user },
          eventWrite(deps.random, {
            applicationId: user.applicationId,
            type: 'user.created',
            subjectType: 'user',
            subjectId: user.id,
            actor: actorOf(principal),
            data: { user_id: user.id, status: user.status },
            createdAt: now,
          }),
        ],
      });
      if (!result.ok) throw new OutbandError('user_exists', `a user with external_id "${user.externalId}" already exists`);
      return user;
    },

    get: load,

    async find(principal: Principal, lookup: UserLookup): Promise<User[]> {
      if ('email' in lookup) return deps.store.users.find(principal.applicationId, { email: parseEmail(lookup.email) });
      // An unencoded "+" in a query string arrives as a space: "?phone=+316…" means "+316…".
      if ('phone' in lookup) return deps.store.users.find(principal.applicationId, { phone: parsePhone(lookup.phone.replace(/^ (?=\d)/, '+')).e164 });
      return deps.store.users.find(principal.applicationId, lookup);
    },

    async update(principal: Principal, id: string, input: UserInput): Promise<User> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const before = await load(principal, id);
        const after = { ...applyInput(before, input), updatedAt: deps.clock.now(), version: before.version + 1 };
        const changed = changedFields(before, after);
        if (changed.length === 0) return before;
        // A new phone number is a new authenticator (SEC-12): its step-up, event and notices commit with the change.
        const binding = await phoneBinding.writes(principal.applicationId, before, after, input.step_up_verification_id, actorOf(principal), after.updatedAt);
        const result = await deps.store.commit({
          writes: [
            { kind: 'user.update', user: after, expectedVersion: before.version },
            eventWrite(deps.random, {
              applicationId: after.applicationId,
              type: before.status !== after.status ? `user.${after.status}` : 'user.updated',
              subjectType: 'user',
              subjectId: id,
              actor: actorOf(principal),
              data: { user_id: id, changed },
              createdAt: after.updatedAt,
            }),
            ...binding,
          ],
        });
        if (result.ok) {
          if (binding.some((w) => w.kind === 'delivery.insert')) options.wakeDelivery?.();
          return after;
        }
        if (result.reason === 'duplicate') {
          const stepUp = input.step_up_verification_id;
          if (stepUp !== undefined && binding.length > 0 && (await phoneBinding.spent(principal.applicationId, stepUp))) {
            throw new OutbandError('step_up_invalid', 'step_up_verification_id does not authorise this change: it was spent on another change at the same time');
          }
          throw new OutbandError('user_exists', `a user with external_id "${after.externalId}" already exists`);
        }
      }
      throw new OutbandError('concurrent_update', 'the user kept changing while this update was applied');
    },

    async remove(principal: Principal, id: string): Promise<void> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const user = await load(principal, id);
        const result = await deps.store.commit({
          writes: [
            { kind: 'user.delete', applicationId: principal.applicationId, id, expectedVersion: user.version },
            eventWrite(deps.random, {
              applicationId: principal.applicationId,
              type: 'user.deleted',
              subjectType: 'user',
              subjectId: id,
              actor: actorOf(principal),
              data: { user_id: id },
              createdAt: deps.clock.now(),
            }),
          ],
        });
        if (result.ok) return;
      }
      throw new OutbandError('concurrent_update', 'the user kept changing while it was deleted');
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;

import { Type } from 'typebox';
import type { User } from '../../domain/user.ts';
import { Id, NullableString, Timestamp } from './common.ts';

const fields = {
  external_id: NullableString({ description: "The relying party's own id of the user; unique within the application", minLength: 1, maxLength: 128 }),
  email: NullableString({ description: 'E-mail address; its domain is stored lower-cased', maxLength: 254 }),
  phone: NullableString({ description: 'Phone number, international (+31 6 12345678) or national with `country`; stored as E.164', maxLength: 32 }),
  display_name: NullableString({ description: 'Name to show, e.g. to a contact-centre agent', maxLength: 200 }),
  locale: NullableString({ description: 'BCP 47 language tag of the messages sent to this user, e.g. "nl-BE"', maxLength: 35 }),
};

const country = Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country of a phone number given in national form, e.g. "NL"' });
const status = Type.Union([Type.Literal('active'), Type.Literal('suspended')], { description: 'A suspended user cannot be verified' });

export const UserCreateBody = Type.Object(
  {
    external_id: Type.Optional(fields.external_id),
    email: Type.Optional(fields.email),
    phone: Type.Optional(fields.phone),
    country: Type.Optional(country),
    display_name: Type.Optional(fields.display_name),
    locale: Type.Optional(fields.locale),
    status: Type.Optional(status),
  },
  { additionalProperties: false },
);

export const UserPatchBody = Type.Object(
  {
    external_id: Type.Optional(fields.external_id),
    email: Type.Optional(fields.email),
    phone: Type.Optional(fields.phone),
    country: Type.Optional(country),
    display_name: Type.Optional(fields.display_name),
    locale: Type.Optional(fields.locale),
    status: Type.Optional(status),
    step_up_verification_id: Type.Optional(
      Id(
        'Setting or changing phone binds a new authenticator: under the nist profile, the id of an approved authentication verification of this user on another authenticator, at most 10 minutes old and not spent before (SEC-12). Spent by this change',
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1, description: 'Only the fields given change; null clears a field' },
);

export const UserView = Type.Object({
  id: Id('The user id'),
  external_id: fields.external_id,
  email: fields.email,
  phone: fields.phone,
  display_name: fields.display_name,
  locale: fields.locale,
  status,
  created_at: Timestamp('When the user was created'),
  updated_at: Timestamp('When the user last changed'),
});

export const UserList = Type.Object({ items: Type.Array(UserView, { description: 'Matching users, oldest first' }) });

export const UserLookupQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: 'Find by e-mail address' })),
    phone: Type.Optional(Type.String({ minLength: 3, maxLength: 32, description: 'Find by phone number, in international form' })),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Find by the relying party's own id" })),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'Exactly one of email, phone or external_id' },
);

export const UserParams = Type.Object({ id: Id('The user id') });

export function userView(u: User) {
  return {
    id: u.id,
    external_id: u.externalId,
    email: u.email,
    phone: u.phone,
    display_name: u.displayName,
    locale: u.locale,
    status: u.status,
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
  };
}

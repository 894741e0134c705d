import type { Kysely } from 'kysely';

/**
 * Issue [5], the web authenticator (docs/decisions/0015-web-authenticator.md): a push device
 * may also hold one WebAuthn credential (a platform authenticator: the phone's screen lock or
 * fingerprint), whose assertion signs its approvals. On the device row, since a device has at
 * most one: the credential id and COSE public key (base64url), the signature counter last seen,
 * and, while the enrolment is pending, the registration challenge (single use).
 */
export async function up(db: Kysely<any>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable('devices').addColumn('webauthn_credential_id', 'text').execute();
  await db.schema.alterTable('devices').addColumn('webauthn_public_key', 'text').execute();
  await db.schema.alterTable('devices').addColumn('webauthn_counter', 'bigint').execute();
  await db.schema.alterTable('devices').addColumn('webauthn_challenge', 'text').execute();
}

import type { Kysely } from 'kysely';

/**
 * Issue [3]: devices (sms, voice and e-mail addresses paired to a user, and push
 * authenticators with their public key and push transport), the device-API nonces that refuse
 * a replayed request, a user's bypass, and the push side of a verification: the device it is
 * for (a pairing, or a push to one device) and its details as JSON (message, context, matching).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('public_jwk', 'text')
    .addColumn('transport', 'text')
    .addColumn('transport_stale_at', 'bigint')
    .addColumn('capabilities', 'text', (c) => c.notNull())
    .addColumn('activation_hmac', 'text', (c) => c.unique())
    .addColumn('activation_expires_at', 'bigint')
    .addColumn('pairing_verification_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('paired_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('devices_user').on('devices').columns(['application_id', 'user_id']).execute();
  await db.schema
    .createTable('device_nonces')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_nonces_pk', ['device_id', 'jti'])
    .execute();
  await db.schema.createIndex('device_nonces_expiry').on('device_nonces').column('expires_at').execute();
  await db.schema.alterTable('users').addColumn('bypass_until', 'bigint').execute();
  await db.schema.alterTable('verifications').addColumn('device_id', 'text').execute();
  await db.schema.alterTable('verifications').addColumn('details', 'text').execute();
  await db.schema.createIndex('verifications_device').on('verifications').column('device_id').execute();
  await db.schema.createIndex('deliveries_recipient').on('deliveries').columns(['recipient', 'channel']).execute();
}

/**
 * Bulk seeding of a SQLite database while no server has it open (table-growth): verifications
 * as a busy application accumulates them, each with its delivery and its last event.
 *
 * Rows are generated inside SQLite (INSERT … SELECT over a recursive counter), so nothing is
 * bound per row; no journal and synchronous=OFF while seeding only; the secondary indexes of
 * the three tables are dropped first and built again after when the seeding at least doubles
 * them (one sort each is far faster than a million inserts at random places). The server then
 * finds the schema it made, in WAL mode. Ids are the prefix and 128 random bits, as the
 * server's, in hex rather than base32.
 *
 * Written without syncs, the seeding leaves up to a gigabyte of dirty pages in the kernel, which
 * writes them back during the next minute: the server measured right after would wait behind that
 * writeback at every WAL sync, a cost of the seeding rather than of the table's size. So the
 * file is synced before the seeding reports done (its time includes that).
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

export interface SeedPlan {
  /** Verifications in a final state, created over the last `days` days: 70 % approved, 20 % expired, 5 % failed, 3 % cancelled, 2 % blocked. */
  finished?: number;
  /** Pending verifications already past their expiry (by up to an hour): work for the sweeper. */
  overdue?: number;
  /** Pending verifications still running (created in the last minute, expiring in ten). */
  pending?: number;
  days?: number;
  now?: number;
}

export interface SeedReport {
  /** Rows added to each of verifications, deliveries and events. */
  rows: number;
  ms: number;
}

function sqlitePath(databaseUrl: string): string {
  if (!databaseUrl.startsWith('sqlite:')) throw new Error(`seeding needs a SQLite database, not ${databaseUrl}`);
  return databaseUrl.slice('sqlite:'.length);
}

/** created_at, expires_at, status, reason, attempts and decided_at of each kind of row, from a counter `i`, a percentile `p` and a time `t`. */
const KINDS = {
  finished: {
    createdAt: `:now - 120000 - t % (:days * 86400000)`,
    status: `case when p < 70 then 'approved' when p < 90 then 'expired' when p < 95 then 'failed' when p < 98 then 'cancelled' else 'blocked' end`,
    reason: `case when p < 70 then null when p < 90 then 'expired' when p < 95 then 'max_attempts' when p < 98 then 'cancelled' else 'blocked' end`,
    attempts: `case when p < 70 then 1 when p >= 90 and p < 95 then 3 else 0 end`,
    decidedAt: `case when p >= 70 and p < 90 then created_at + 600000 else created_at + 5000 + t % 60000 end`,
  },
  overdue: {
    createdAt: `:now - 601000 - t % 3600000`,
    status: `'pending'`,
    reason: 'null',
    attempts: '0',
    decidedAt: 'null',
  },
  pending: {
    createdAt: `:now - t % 60000`,
    status: `'pending'`,
    reason: 'null',
    attempts: '0',
    decidedAt: 'null',
  },
} as const;

export function seedVerifications(databaseUrl: string, applicationId: string, plan: SeedPlan): SeedReport {
  const started = performance.now();
  const db = new DatabaseSync(sqlitePath(databaseUrl), { timeout: 5000 });
  let rows = 0;
  try {
    db.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -200000; PRAGMA temp_store = MEMORY;');
    // Rebuilding pays when the seeding at least doubles the tables; a few rows more go into the indexes as they are.
    const existing = Number((db.prepare('select count(*) as n from verifications').get() as { n: number }).n);
    const adding = (plan.finished ?? 0) + (plan.overdue ?? 0) + (plan.pending ?? 0);
    const indexes =
      adding < existing
        ? []
        : (db
            .prepare("select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in ('verifications', 'deliveries', 'events')")
            .all() as Array<{ name: string; sql: string }>);
    for (const index of indexes) db.exec(`drop index "${index.name}"`);

    const now = plan.now ?? Date.now();
    const days = plan.days ?? 30;
    for (const kind of ['finished', 'overdue', 'pending'] as const) {
      const count = plan[kind] ?? 0;
      if (count === 0) continue;
      const shape = KINDS[kind];
      const from = Number((db.prepare('select coalesce(max(rowid), 0) as n from verifications').get() as { n: number }).n);
      const lastSeq = Number((db.prepare('select coalesce(max(app_seq), 0) as n from events where application_id = ?').get(applicationId) as { n: number }).n);
      db.exec('begin');
      const insertVerifications = db.prepare(
        `with recursive counter(i) as (select 0 union all select i + 1 from counter where i < :count - 1),
         drawn as materialized (select i, abs(random()) % 100 as p, abs(random()) as t from counter),
         timed as (select i, p, t, ${shape.createdAt} as created_at from drawn)
         insert into verifications (id, application_id, user_id, channel, purpose, recipient, status, reason, code_hmac, attempts, max_attempts, locale,
           created_at, expires_at, decided_at, version, resends, last_sent_at, code_length, two_way, caller_hmac, device_id, details)
         select 'vrf_' || lower(hex(randomblob(16))), :app, 'usr_seed' || (i % 10000),
           case when i % 5 = 4 then 'email' else 'sms' end, 'authentication',
           case when i % 5 = 4 then 'seed-' || (i % 10000) || '@example.com' else '+3162' || (1000000 + i % 10000) end,
           ${shape.status}, ${shape.reason}, lower(hex(randomblob(32))), ${shape.attempts}, 3, 'en',
           created_at, created_at + 600000, ${shape.decidedAt}, case when ${shape.decidedAt} is null then 1 else 2 end, 0, created_at, 6, 0, null, null, '{"country":"NL"}'
         from timed`,
      );
      // `days` is used by finished rows only.
      insertVerifications.setAllowUnknownNamedParameters(true);
      insertVerifications.run({ count, now, days, app: applicationId });
      db.prepare(
        `insert into deliveries (id, application_id, verification_id, channel, provider, recipient, sealed_message, status, attempts, next_attempt_at,
           locked_until, provider_message_id, error, created_at, updated_at, sent_at, receipt_at, step)
         select 'dlv_' || lower(hex(randomblob(16))), application_id, id, channel, 'outbox', recipient, null,
           case when status = 'failed' and rowid % 10 = 0 then 'failed' else 'sent' end, 1, created_at,
           null, null, case when status = 'failed' and rowid % 10 = 0 then 'the provider refused the message' end, created_at, created_at + 300,
           case when status = 'failed' and rowid % 10 = 0 then null else created_at + 300 end, null, 0
         from verifications where rowid > :from`,
      ).run({ from });
      db.prepare(
        `insert into events (id, application_id, type, subject_type, subject_id, actor, data, created_at, app_seq, user_id)
         select 'evt_' || lower(hex(randomblob(16))), application_id,
           case status when 'pending' then 'verification.started' when 'blocked' then 'verification.started' else 'verification.' || status end,
           'verification', id, case when status = 'approved' then 'client:cli_seed' else 'system' end,
           json_object('verification_id', id, 'user_id', user_id, 'channel', channel, 'purpose', purpose, 'status', status, 'reason', reason, 'attempts', attempts),
           coalesce(decided_at, created_at), :seq + rowid - :from, user_id
         from verifications where rowid > :from order by rowid`,
      ).run({ from, seq: lastSeq });
      db.exec('commit');
      rows += count;
    }
    const lastSeq = Number((db.prepare('select coalesce(max(app_seq), 0) as n from events where application_id = ?').get(applicationId) as { n: number }).n);
    db.prepare('insert into application_sequences (application_id, "last") values (?, ?) on conflict (application_id) do update set "last" = excluded."last"').run(applicationId, lastSeq);
    for (const index of indexes) db.exec(index.sql);
    db.exec('PRAGMA synchronous = FULL; PRAGMA journal_mode = WAL;');
  } finally {
    db.close();
  }
  const file = openSync(sqlitePath(databaseUrl), 'r+');
  try {
    fsyncSync(file);
  } finally {
    closeSync(file);
  }
  return { rows, ms: Math.round(performance.now() - started) };
}

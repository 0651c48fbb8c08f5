import type { Queryable } from '../../db/client.js';
import { isoColumn } from '../../db/columns.js';
import type { UserRow } from '../users/queries.js';

const COLUMNS = `u.id, u.email, u.name, u.external_id, u.metadata, ${isoColumn('u.created_at')},
  ${isoColumn('u.updated_at')}, ${isoColumn('u.deleted_at')}`;

/** The live user a token's `sub` names. */
export async function findUserByExternalId(db: Queryable, externalId: string): Promise<UserRow | undefined> {
  const rows = await db.query<UserRow>(
    `select ${COLUMNS} from users u where u.external_id = $1 and u.deleted_at is null`,
    [externalId],
  );
  return rows[0];
}

/** Whether a user with this external_id was deleted (and none lives with it now). */
export async function externalIdWasDeleted(db: Queryable, externalId: string): Promise<boolean> {
  const rows = await db.query<{ found: boolean }>(
    `select exists(select 1 from users where external_id = $1 and deleted_at is not null) as found`,
    [externalId],
  );
  return rows[0]?.found ?? false;
}

/**
 * Serialises first sight of one `sub`, and of one email, for the rest of the transaction: the
 * requests a new user's first page fires at once agree on one user. Taken in a statement of its
 * own, so the next statement sees what the transaction it waited for committed.
 */
export async function lockIdentity(db: Queryable, externalId: string, email: string | null): Promise<void> {
  const bySubject = `pg_advisory_xact_lock(hashtextextended('user-external-id:' || $1::text, 0))`;
  if (email === null) {
    await db.query(`select ${bySubject}`, [externalId]);
    return;
  }
  // Always in this order (subject, then email), so two first sights cannot wait on each other.
  await db.query(
    `select ${bySubject}, pg_advisory_xact_lock(hashtextextended('user-email:' || lower($2::text), 0))`,
    [externalId, email],
  );
}

/** Whether another live user already has this email (case-insensitively). */
export async function emailHeldByOther(db: Queryable, email: string, userId: string): Promise<boolean> {
  const rows = await db.query<{ found: boolean }>(
    `select exists(select 1 from users
                    where lower(email) = lower($1) and deleted_at is null and id <> $2) as found`,
    [email, userId],
  );
  return rows[0]?.found ?? false;
}

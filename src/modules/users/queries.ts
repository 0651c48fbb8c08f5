import { uuidv7 } from 'uuidv7';
import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  external_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const COLUMNS = `u.id, u.email, u.name, u.external_id, u.metadata, ${isoColumn('u.created_at')},
  ${isoColumn('u.updated_at')}, ${isoColumn('u.deleted_at')}`;
const RETURNING = COLUMNS.replaceAll('u.', '');

export async function findUserById(db: Queryable, id: string, lock = false): Promise<UserRow | undefined> {
  const rows = await db.query<UserRow>(
    `select ${COLUMNS} from users u where u.id = $1 and u.deleted_at is null ${lock ? 'for update of u' : ''}`,
    [id],
  );
  return rows[0];
}

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const rows = await db.query<UserRow>(
    `select ${COLUMNS} from users u where lower(u.email) = lower($1) and u.deleted_at is null`,
    [email],
  );
  return rows[0];
}

export interface NewUser {
  id: string;
  email: string;
  name: string | null;
  externalId: string | null;
  metadata: Record<string, unknown>;
}

export async function insertUser(db: Queryable, user: NewUser): Promise<UserRow> {
  const rows = await db.query<UserRow>(
    `insert into users (id, email, name, external_id, metadata) values ($1, $2, $3, $4, $5::jsonb)
     returning ${RETURNING}`,
    [user.id, user.email, user.name, user.externalId, user.metadata],
  );
  return rows[0]!;
}

/**
 * The live user with this email, created when there is none. `on conflict do nothing` plus a
 * second read makes two concurrent calls agree on one user instead of one of them failing.
 */
export async function findOrCreateUserByEmail(db: Queryable, id: string, email: string): Promise<UserRow> {
  const inserted = await db.query<UserRow>(
    `insert into users (id, email) values ($1, $2)
     on conflict (lower(email)) where deleted_at is null do nothing
     returning ${RETURNING}`,
    [id, email],
  );
  if (inserted[0]) return inserted[0];
  const existing = await findUserByEmail(db, email);
  if (!existing) throw new Error('user vanished between insert and select');
  return existing;
}

const UPDATABLE: Record<string, { column: string; cast?: string }> = {
  email: { column: 'email' },
  name: { column: 'name' },
  external_id: { column: 'external_id' },
  metadata: { column: 'metadata', cast: 'jsonb' },
};

export async function updateUser(
  db: Queryable,
  id: string,
  changes: Record<string, unknown>,
): Promise<UserRow> {
  const params: unknown[] = [id];
  const sets = setClause(changes, UPDATABLE, params);
  const rows = await db.query<UserRow>(
    `update users set ${sets} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

export async function softDeleteUser(db: Queryable, id: string): Promise<void> {
  await db.query(`update users set deleted_at = now(), ${touchUpdatedAt()} where id = $1`, [id]);
}

export interface UserFilter {
  email?: string;
  /** Organization keys see only the members of their subtree. */
  memberOfSubtree?: string;
  /** Personal keys see only themselves. */
  onlyId?: string;
}

export async function listUsers(db: Queryable, filter: UserFilter, page: PageRequest): Promise<UserRow[]> {
  const params: unknown[] = [];
  const where = ['u.deleted_at is null'];
  if (filter.email) {
    params.push(filter.email);
    where.push(`lower(u.email) = lower($${params.length})`);
  }
  if (filter.onlyId) {
    params.push(filter.onlyId);
    where.push(`u.id = $${params.length}`);
  }
  if (filter.memberOfSubtree) {
    params.push(filter.memberOfSubtree);
    where.push(`exists (select 1 from memberships m join organizations o on o.id = m.organization_id
                         where m.user_id = u.id and o.deleted_at is null
                           and (o.id = $${params.length} or o.ancestor_ids @> array[$${params.length}::uuid]))`);
  }
  const keyset = keysetSql('u.id', page, params);
  where.push(keyset.where);
  return db.query<UserRow>(
    `select ${COLUMNS} from users u where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

/** Whether the user belongs to the subtree under `rootId` (organization keys may see such users). */
export async function userInSubtree(db: Queryable, userId: string, rootId: string): Promise<boolean> {
  const rows = await db.query<{ found: boolean }>(
    `select exists(select 1 from memberships m join organizations o on o.id = m.organization_id
                    where m.user_id = $1 and o.deleted_at is null
                      and (o.id = $2 or o.ancestor_ids @> array[$2::uuid])) as found`,
    [userId, rootId],
  );
  return rows[0]?.found ?? false;
}

/**
 * Locks the live top-level organizations this user owns, in id order, for the rest of the
 * transaction. Membership changes lock the same rows, so deleting two co-owners at once, or a
 * user while its co-owner is demoted, cannot both pass the last-owner check.
 */
export async function lockOrganizationsOwnedBy(db: Queryable, userId: string): Promise<void> {
  await db.query(
    `select o.id from organizations o
      where o.parent_id is null and o.deleted_at is null
        and exists (select 1 from memberships m
                     where m.organization_id = o.id and m.user_id = $1 and m.role = 'owner')
      order by o.id
      for update of o`,
    [userId],
  );
}

/**
 * Many emails at once: the live user of each (lower-cased) email, created when there is none, in
 * one statement (and a second for emails a concurrent request created meanwhile). `created` holds
 * the ids this call inserted.
 */
export async function findOrCreateUsersByEmails(
  db: Queryable,
  emails: string[],
): Promise<{ byEmail: Map<string, string>; created: Set<string> }> {
  // Sorted, so two requests inserting overlapping emails take the index entries in one order.
  const wanted = [...new Set(emails.map((email) => email.toLowerCase()))].sort();
  const given = new Map<string, string>();
  for (const email of emails) if (!given.has(email.toLowerCase())) given.set(email.toLowerCase(), email);
  const rows = await db.query<{ id: string; email: string; created: boolean }>(
    `with inserted as (
       insert into users (id, email) select * from unnest($1::uuid[], $2::text[])
       on conflict (lower(email)) where deleted_at is null do nothing
       returning id, lower(email) as email)
     select id, email, true as created from inserted
     union all
     select id, lower(email), false from users where lower(email) = any($3::text[]) and deleted_at is null`,
    [wanted.map(() => uuidv7()), wanted.map((email) => given.get(email)!), wanted],
  );
  const byEmail = new Map(rows.map((row) => [row.email, row.id]));
  const created = new Set(rows.filter((row) => row.created).map((row) => row.id));
  const missing = wanted.filter((email) => !byEmail.has(email));
  if (missing.length > 0) {
    const late = await db.query<{ id: string; email: string }>(
      'select id, lower(email) as email from users where lower(email) = any($1::text[]) and deleted_at is null',
      [missing],
    );
    for (const row of late) byEmail.set(row.email, row.id);
  }
  return { byEmail, created };
}

/** Of these ids, those of live users. */
export async function liveUserIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const rows = await db.query<{ id: string }>(
    'select id from users where id = any($1::uuid[]) and deleted_at is null',
    [ids],
  );
  return new Set(rows.map((row) => row.id));
}

/** Removes users created in this transaction that ended up with nothing to do. */
export async function deleteNewUsers(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.query('delete from users where id = any($1::uuid[])', [ids]);
}

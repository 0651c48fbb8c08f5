import type { Queryable } from '../../db/client.js';

/*
 * `user_organizations` holds every organization a user can reach: those they are a member of and
 * all their descendants, deleted ones included (lists filter those out). It is derived from
 * `memberships` and the tree, kept in step in the same transaction as every change to either, so
 * a user's organization list is one ordered index range instead of a walk over the tree.
 *
 * Writers of one tree serialise on an advisory lock of its root, taken in its own statement so
 * the statements after it see what the previous writer committed: otherwise a team created while
 * a member is added to its parent could miss that member.
 */

/** Locks the trees of these roots for reach maintenance until the transaction ends. */
export async function lockTrees(db: Queryable, rootIds: string[]): Promise<void> {
  // Sorted like lockTreesOfUser sorts, so transactions locking several trees cannot deadlock.
  for (const rootId of [...new Set(rootIds)].sort()) {
    await db.query('select pg_advisory_xact_lock(hashtextextended($1::text, 0))', [rootId]);
  }
}

/** The user reaches the organization and all its descendants. */
export async function grantReach(db: Queryable, userId: string, organizationId: string): Promise<void> {
  await db.query(
    `insert into user_organizations (user_id, organization_id, root_id)
     select $1, d.id, d.root_id from organizations d
      where d.id = $2 or d.ancestor_ids @> array[$2::uuid]
     on conflict do nothing`,
    [userId, organizationId],
  );
}

/** Each of these users reaches the organization and all its descendants. */
export async function grantReachToMany(db: Queryable, userIds: string[], organizationId: string) {
  await db.query(
    `insert into user_organizations (user_id, organization_id, root_id)
     select u.id, d.id, d.root_id from unnest($1::uuid[]) as u(id), organizations d
      where d.id = $2 or d.ancestor_ids @> array[$2::uuid]
     on conflict do nothing`,
    [userIds, organizationId],
  );
}

/** After a membership is gone: the user keeps only what another membership still reaches. */
export async function withdrawReach(db: Queryable, userId: string, organizationId: string): Promise<void> {
  await db.query(
    `delete from user_organizations r using organizations d
      where r.user_id = $1 and r.organization_id = d.id
        and (d.id = $2 or d.ancestor_ids @> array[$2::uuid])
        and not exists (select 1 from memberships m
                         where m.user_id = $1 and m.organization_id = any(d.ancestor_ids || d.id))`,
    [userId, organizationId],
  );
}

export async function withdrawAllReach(db: Queryable, userId: string): Promise<void> {
  await db.query('delete from user_organizations where user_id = $1', [userId]);
}

/** A new team is reached by everyone who reaches its ancestors. */
export async function inheritReach(
  db: Queryable,
  organizationId: string,
  ancestorIds: string[],
): Promise<void> {
  await db.query(
    `insert into user_organizations (user_id, organization_id, root_id)
     select distinct m.user_id, o.id, o.root_id from memberships m, organizations o
      where o.id = $1 and m.organization_id = any($2::uuid[])
     on conflict do nothing`,
    [organizationId, ancestorIds],
  );
}

/** Rebuilds the reach of a subtree from memberships, after it moved. */
export async function rebuildReach(db: Queryable, organizationId: string): Promise<void> {
  const subtree = `select id from organizations where id = $1 or ancestor_ids @> array[$1::uuid]`;
  await db.query(`delete from user_organizations where organization_id in (${subtree})`, [organizationId]);
  await db.query(
    `insert into user_organizations (user_id, organization_id, root_id)
     select distinct m.user_id, d.id, d.root_id
       from organizations d join memberships m on m.organization_id = any(d.ancestor_ids || d.id)
      where d.id = $1 or d.ancestor_ids @> array[$1::uuid]`,
    [organizationId],
  );
}

export async function lockTreeOf(db: Queryable, organizationId: string): Promise<void> {
  await db.query(
    'select pg_advisory_xact_lock(hashtextextended(root_id::text, 0)) from organizations where id = $1',
    [organizationId],
  );
}

/** The trees the user is a member in, locked in one order so two such transactions cannot deadlock. */
export async function lockTreesOfUser(db: Queryable, userId: string): Promise<void> {
  await db.query(
    `select pg_advisory_xact_lock(hashtextextended(root_id::text, 0))
       from (select distinct root_id from memberships where user_id = $1 order by root_id) roots`,
    [userId],
  );
}

import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { inheritReach, lockTrees } from '../members/reach.js';
import type { Role } from '../members/roles.js';
import type { Permission } from '../roles/permissions.js';

export interface OrganizationRow {
  id: string;
  root_id: string;
  parent_id: string | null;
  ancestor_ids: string[];
  name: string;
  slug: string;
  friendly_name: string | null;
  description: string | null;
  domain: string | null;
  logo_media_id: string | null;
  billing_account_id: string | null;
  connection_id: string | null;
  active: boolean;
  settings: Record<string, unknown>;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  deletion_id: string | null;
}

export interface AccessibleOrganizationRow extends OrganizationRow {
  caller_role: Role | null;
  /** What the caller's custom roles on the path grant; loaded by `reachOrganization` only when a need asks. */
  caller_permissions?: Permission[];
  /** The organization or an ancestor turned `members_can_use_personal_api_keys` off. */
  personal_keys_refused: boolean;
}

export const ORG_COLUMNS = `o.id, o.root_id, o.parent_id, o.ancestor_ids, o.name, o.slug, o.friendly_name,
  o.description, o.domain, o.logo_media_id, o.billing_account_id, o.connection_id, o.active, o.settings,
  o.metadata, ${isoColumn('o.created_at')}, ${isoColumn('o.updated_at')}, ${isoColumn('o.deleted_at')}, o.deletion_id`;

const RETURNING = ORG_COLUMNS.replaceAll('o.', '');

const RANKED = `array['viewer','member','admin','owner']::text[]`;

/**
 * SQL for the role the principal holds on row `o`: the highest role held on the organization or
 * any ancestor. Null means no access, which callers answer with 404.
 */
export function callerRoleSql(principal: Principal, params: unknown[]): string {
  if (principal.kind === 'admin') return `'owner'::text`;
  if (principal.kind === 'organization') {
    params.push(principal.organizationId);
    const key = `$${params.length}::uuid`;
    return `(case when o.id = ${key} or o.ancestor_ids @> array[${key}] then 'admin' end)`;
  }
  params.push(principal.userId);
  return `(select (${RANKED})[max(array_position(${RANKED}, m.role))]
             from memberships m
            where m.user_id = $${params.length} and m.organization_id = any(o.ancestor_ids || o.id))`;
}

const PERSONAL_KEYS_OFF = `settings->>'members_can_use_personal_api_keys' = 'false'`;

/** Only personal keys are affected; the setting on any ancestor applies to its teams too. */
function personalKeysRefusedSql(principal: Principal): string {
  if (principal.kind !== 'user') return 'false';
  return `(o.${PERSONAL_KEYS_OFF} or exists (select 1 from organizations a
             where a.id = any(o.ancestor_ids) and a.${PERSONAL_KEYS_OFF}))`;
}

/** One statement: the organization by id or slug and the caller's role on it. */
/**
 * SQL selecting the organization by id or slug with the caller's role on it as `caller_role`;
 * other statements embed it to authorize and fetch in one round trip.
 */
export function organizationForCallerSql(
  principal: Principal,
  ref: string,
  params: unknown[],
  options: { includeDeleted: boolean; lock?: boolean },
): string {
  const role = callerRoleSql(principal, params);
  params.push(isUuid(ref) ? ref.toLowerCase() : ref);
  const match = isUuid(ref)
    ? `o.id = $${params.length}`
    : // A slug names a live organization; among deleted ones it names the most recently deleted.
      `o.slug = $${params.length}`;
  const live = options.includeDeleted ? '' : 'and o.deleted_at is null';
  return `select ${ORG_COLUMNS}, ${role} as caller_role, ${personalKeysRefusedSql(principal)} as personal_keys_refused
            from organizations o
           where ${match} ${live}
           order by o.deleted_at desc nulls first
           limit 1 ${options.lock ? 'for update of o' : ''}`;
}

/** One statement: the organization by id or slug and the caller's role on it. */
export async function findOrganizationForCaller(
  db: Queryable,
  principal: Principal,
  ref: string,
  options: { includeDeleted: boolean; lock?: boolean },
): Promise<AccessibleOrganizationRow | undefined> {
  const params: unknown[] = [];
  const rows = await db.query<AccessibleOrganizationRow>(
    organizationForCallerSql(principal, ref, params, options),
    params,
  );
  return rows[0];
}

export async function slugIsTaken(db: Queryable, slug: string): Promise<boolean> {
  const rows = await db.query<{ taken: boolean }>(
    'select exists(select 1 from organizations where slug = $1 and deleted_at is null) as taken',
    [slug],
  );
  return rows[0]?.taken ?? false;
}

export interface NewOrganization {
  id: string;
  rootId: string;
  parentId: string | null;
  ancestorIds: string[];
  name: string;
  slug: string;
  friendlyName: string | null;
  description: string | null;
  domain: string | null;
  logoMediaId: string | null;
  billingAccountId: string | null;
  connectionId: string | null;
  active: boolean;
  settings: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export async function insertOrganization(db: Queryable, org: NewOrganization): Promise<OrganizationRow> {
  if (org.parentId) {
    await lockTrees(db, [org.rootId]);
    await countChildren(db, org.parentId, 1);
  }
  const rows = await db.query<OrganizationRow>(
    `insert into organizations (id, root_id, parent_id, ancestor_ids, name, slug, friendly_name, description,
       domain, logo_media_id, billing_account_id, connection_id, active, settings, metadata)
     values ($1, $2, $3, $4::uuid[], $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb)
     returning ${RETURNING}`,
    [
      org.id,
      org.rootId,
      org.parentId,
      org.ancestorIds,
      org.name,
      org.slug,
      org.friendlyName,
      org.description,
      org.domain,
      org.logoMediaId,
      org.billingAccountId,
      org.connectionId,
      org.active,
      org.settings,
      org.metadata,
    ],
  );
  if (org.parentId) await inheritReach(db, org.id, org.ancestorIds);
  return rows[0]!;
}

/** The fields a PATCH may set, and their columns. */
const UPDATABLE: Record<string, { column: string; cast?: string }> = {
  name: { column: 'name' },
  slug: { column: 'slug' },
  friendly_name: { column: 'friendly_name' },
  description: { column: 'description' },
  domain: { column: 'domain' },
  logo_media_id: { column: 'logo_media_id' },
  billing_account_id: { column: 'billing_account_id' },
  connection_id: { column: 'connection_id' },
  active: { column: 'active' },
  settings: { column: 'settings', cast: 'jsonb' },
  metadata: { column: 'metadata', cast: 'jsonb' },
};

export async function updateOrganization(
  db: Queryable,
  id: string,
  changes: Record<string, unknown>,
): Promise<OrganizationRow> {
  const params: unknown[] = [id];
  const sets = setClause(changes, UPDATABLE, params);
  const rows = await db.query<OrganizationRow>(
    `update organizations set ${sets} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

export interface OrganizationFilter {
  /** Restricts to what the caller may see (with `directOnly`, only direct memberships); absent for admin keys. */
  memberOf?: { userId: string; directOnly: boolean };
  /** Organization keys see their own subtree only. */
  subtree?: { rootId: string; directOnly: boolean };
  /** Admin keys with `no_children`: top-level organizations only. */
  topLevelOnly?: boolean;
  parentId?: string;
  nameSearch?: string;
  activeOnly: boolean;
  includeDeleted: boolean;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listOrganizations(
  db: Queryable,
  filter: OrganizationFilter,
  page: PageRequest,
): Promise<OrganizationRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  let from = 'organizations o';
  let keyColumn = 'o.id';
  const member = filter.memberOf;
  if (member) {
    params.push(member.userId);
    // Both are ordered by (user_id, organization_id): a page is one index range whatever the user's reach.
    from = member.directOnly
      ? 'memberships reach join organizations o on o.id = reach.organization_id'
      : 'user_organizations reach join organizations o on o.id = reach.organization_id';
    where.push(`reach.user_id = $${params.length}`);
    keyColumn = 'reach.organization_id';
  }
  if (filter.subtree) {
    params.push(filter.subtree.rootId);
    const root = `$${params.length}::uuid`;
    where.push(
      filter.subtree.directOnly ? `o.id = ${root}` : `(o.id = ${root} or o.ancestor_ids @> array[${root}])`,
    );
  }
  if (filter.topLevelOnly) where.push('o.parent_id is null');
  if (filter.parentId) {
    params.push(filter.parentId);
    where.push(`o.parent_id = $${params.length}`);
  }
  if (filter.nameSearch) {
    params.push(`%${escapeLike(filter.nameSearch)}%`);
    where.push(`o.name ilike $${params.length}`);
  }
  if (filter.activeOnly) where.push('o.active');
  if (!filter.includeDeleted) where.push('o.deleted_at is null');
  const keyset = keysetSql(keyColumn, page, params);
  where.push(keyset.where);
  return db.query<OrganizationRow>(
    `select ${ORG_COLUMNS} from ${from} where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

/** Soft-deletes the organization and every live descendant, marking them with one deletion id; returns their ids. */
export async function softDeleteSubtree(db: Queryable, id: string, deletionId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `update organizations set deleted_at = now(), deletion_id = $2, ${touchUpdatedAt()}
      where (id = $1 or ancestor_ids @> array[$1::uuid]) and deleted_at is null
      returning id`,
    [id, deletionId],
  );
  return rows.map((row) => row.id);
}

export async function restoreDeletion(db: Queryable, deletionId: string): Promise<number> {
  const rows = await db.query<{ id: string }>(
    `update organizations set deleted_at = null, deletion_id = null, ${touchUpdatedAt()}
      where deletion_id = $1 returning id`,
    [deletionId],
  );
  return rows.length;
}

export async function findOrganizationById(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  const rows = await db.query<OrganizationRow>(`select ${ORG_COLUMNS} from organizations o where o.id = $1`, [
    id,
  ]);
  return rows[0];
}

/** How many levels lie below the organization (0 for a leaf). */
export async function subtreeHeight(db: Queryable, org: OrganizationRow): Promise<number> {
  const rows = await db.query<{ height: number }>(
    `select coalesce(max(cardinality(ancestor_ids)), 0)::int as height
       from organizations where ancestor_ids @> array[$1::uuid]`,
    [org.id],
  );
  const deepest = rows[0]?.height ?? 0;
  return deepest === 0 ? 0 : deepest - org.ancestor_ids.length;
}

// Moves are rare; one lock for all of them makes concurrent moves unable to build a cycle together.
const MOVE_LOCK = 727_274_302;

export async function lockMoves(db: Queryable): Promise<void> {
  await db.query('select pg_advisory_xact_lock($1)', [MOVE_LOCK]);
}

/** Re-parents the organization and rewrites the ancestor path and root of its whole subtree. */
async function countChildren(db: Queryable, parentId: string, change: 1 | -1): Promise<void> {
  await db.query('update organizations set child_count = child_count + $2 where id = $1', [parentId, change]);
}

export async function moveSubtree(
  db: Queryable,
  org: OrganizationRow,
  parentId: string | null,
  newAncestors: string[],
  newRootId: string,
): Promise<void> {
  const oldDepth = org.ancestor_ids.length;
  if (org.parent_id) await countChildren(db, org.parent_id, -1);
  if (parentId) await countChildren(db, parentId, 1);
  await db.query(
    `update organizations
        set ancestor_ids = $2::uuid[] || array[$1::uuid] || ancestor_ids[$3 + 2:],
            root_id = $4, ${touchUpdatedAt()}
      where ancestor_ids @> array[$1::uuid]`,
    [org.id, newAncestors, oldDepth, newRootId],
  );
  await db.query(
    `update organizations set parent_id = $2, ancestor_ids = $3::uuid[], root_id = $4, ${touchUpdatedAt()}
      where id = $1`,
    [org.id, parentId, newAncestors, newRootId],
  );
  await db.query(
    `update memberships set root_id = $2
      where organization_id in (select id from organizations where id = $1 or ancestor_ids @> array[$1::uuid])`,
    [org.id, newRootId],
  );
  await db.query(
    `update api_keys set root_id = $2
      where organization_id in (select id from organizations where id = $1 or ancestor_ids @> array[$1::uuid])`,
    [org.id, newRootId],
  );
  await db.query(
    `update roles set root_id = $2
      where organization_id in (select id from organizations where id = $1 or ancestor_ids @> array[$1::uuid])`,
    [org.id, newRootId],
  );
}

import type { Queryable, QueryOptions } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { MetadataFilter } from '../../http/metadata.js';
import type { PageRequest } from '../../http/pagination.js';
import type { Principal } from '../../http/principal.js';
import { isUuid } from '../../http/schemas.js';
import { inheritReach, lockTrees } from '../members/reach.js';
import { atLeast, ROLES, type Role } from '../members/roles.js';
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
  public_metadata: Record<string, unknown>;
  private_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  deletion_id: string | null;
}

/** A row of a list: `private_metadata` is null where the caller may not read it. */
export type ListedOrganizationRow = Omit<OrganizationRow, 'private_metadata'> & {
  private_metadata: Record<string, unknown> | null;
};

export interface AccessibleOrganizationRow extends OrganizationRow {
  caller_role: Role | null;
  /** What the caller's custom roles on the path grant; loaded by `reachOrganization` only when a need asks. */
  caller_permissions?: Permission[];
  /** The organization or an ancestor turned `members_can_use_personal_api_keys` off. */
  personal_keys_refused: boolean;
  /** The organization or an ancestor has `enforce_2fa` on and the caller is a JWT without a second factor. */
  two_factor_refused: boolean;
}

export const ORG_COLUMNS = `o.id, o.root_id, o.parent_id, o.ancestor_ids, o.name, o.slug, o.friendly_name,
  o.description, o.domain, o.logo_media_id, o.billing_account_id, o.connection_id, o.active, o.settings,
  o.metadata, o.public_metadata, o.private_metadata, ${isoColumn('o.created_at')}, ${isoColumn('o.updated_at')}, ${isoColumn('o.deleted_at')}, o.deletion_id`;

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

/** SQL: the setting holds on `o` or on any of its ancestors, so it applies to teams too. */
const onPath = (setting: string) =>
  `(o.${setting} or exists (select 1 from organizations a where a.id = any(o.ancestor_ids) and a.${setting}))`;

/** Only personal keys are affected (a JWT is the user's own session, not a key). */
function personalKeysRefusedSql(principal: Principal): string {
  if (principal.kind !== 'user' || principal.via !== 'api_key') return 'false';
  return onPath(PERSONAL_KEYS_OFF);
}

const TWO_FACTOR_ENFORCED = `settings->>'enforce_2fa' = 'true'`;

/** Only JWT callers whose `amr` shows no second factor are affected; API keys are not sign-ins. */
function twoFactorRefusedSql(principal: Principal): string {
  if (principal.via !== 'jwt' || principal.secondFactor) return 'false';
  return onPath(TWO_FACTOR_ENFORCED);
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
  return `select ${ORG_COLUMNS}, ${role} as caller_role, ${personalKeysRefusedSql(principal)} as personal_keys_refused,
                 ${twoFactorRefusedSql(principal)} as two_factor_refused
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
  publicMetadata: Record<string, unknown>;
  privateMetadata: Record<string, unknown>;
}

export async function insertOrganization(db: Queryable, org: NewOrganization): Promise<OrganizationRow> {
  if (org.parentId) {
    await lockTrees(db, [org.rootId]);
    await countChildren(db, org.parentId, 1);
  }
  const rows = await db.query<OrganizationRow>(
    `insert into organizations (id, root_id, parent_id, ancestor_ids, name, slug, friendly_name, description,
       domain, logo_media_id, billing_account_id, connection_id, active, settings, metadata, public_metadata,
       private_metadata)
     values ($1, $2, $3, $4::uuid[], $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16::jsonb,
       $17::jsonb)
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
      org.publicMetadata,
      org.privateMetadata,
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
  public_metadata: { column: 'public_metadata', cast: 'jsonb' },
  private_metadata: { column: 'private_metadata', cast: 'jsonb' },
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
  metadata?: MetadataFilter[];
  /**
   * Private metadata is read only where this user holds the admin role or above (on the row or an
   * ancestor); absent when the caller reads it everywhere it lists (admin and organization keys).
   */
  privateReadableBy?: string;
}

export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `'admin', 'owner'`: written into the statement, since binding an array costs every list a little. */
const ADMIN_ROLES = ROLES.filter((role) => atLeast(role, 'admin'))
  .map((role) => `'${role}'`)
  .join(', ');

/**
 * The select list of a list: the private metadata only where `userId` (when given) may read it,
 * null elsewhere. Null in the column rather than a flag beside it: every column of every row
 * costs the driver, and lists are the hottest reads.
 */
function listColumnsSql(userId: string | undefined, params: unknown[]): string {
  if (userId === undefined) return ORG_COLUMNS;
  return ORG_COLUMNS.replace(
    'o.private_metadata',
    `case when ${privateReadableSql(userId, params)} then o.private_metadata end as private_metadata`,
  );
}

/**
 * SQL: the user holds the admin role or above on row `o` or an ancestor. Each organization of the
 * path is probed on its own, (user, organization) in the membership index: a few index lookups per
 * row under any plan. Matching the whole path at once (`= any(path)`, or `&&` against the user's
 * admin memberships) lets the generic plan of the prepared statement read every membership of the
 * user, per row or per statement: 1 to 2.5 ms instead of 0.2 for a user in 1,000 organizations.
 */
function privateReadableSql(userId: string, params: unknown[]): string {
  params.push(userId);
  return `exists (select 1 from unnest(o.ancestor_ids || o.id) as path(id),
      lateral (select 1 from memberships pm where pm.user_id = $${params.length} and pm.organization_id = path.id
                  and pm.role in (${ADMIN_ROLES}) limit 1) as admin)`;
}

/** What identifies one rendering of an organization: every write moves `updated_at` forward. */
const VERSION = 'o.updated_at::text as version';

/** A row of a list as the rendered-organization cache needs it (./rendered.ts). */
export interface ListedVersionRow {
  id: string;
  version: string;
  private_readable: boolean;
}

/** A number or boolean as a client would write it; such a value also matches the typed JSON value. */
const JSON_SCALAR = /^(true|false|-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?)$/;

/**
 * SQL for `metadata[key]=value` conditions: containment (`@>`) of `{key: value}` as a string and,
 * when the text spells a number or boolean, as that value too. Containment is what the GIN
 * `jsonb_path_ops` indexes answer, and the planner estimates it from the column's statistics, so a
 * common value still reads the primary key in order while a rare one probes the index. (An extra
 * `->>` comparison would make the estimate a blind guess and send common values to the index.)
 */
function metadataConditionsSql(filters: MetadataFilter[], params: unknown[]): string[] {
  return filters.map(({ column, key, value }) => {
    const target = `o.${column}`;
    // Sent as text and cast by the server: a driver handed a string for a jsonb parameter would
    // encode it once more as a JSON string.
    params.push(JSON.stringify(Object.fromEntries([[key, value]])));
    const probes = [`${target} @> $${params.length}::text::jsonb`];
    if (JSON_SCALAR.test(value)) {
      params.push(`{${JSON.stringify(key)}:${value}}`);
      probes.push(`${target} @> $${params.length}::text::jsonb`);
    }
    return probes.length === 1 ? probes[0]! : `(${probes.join(' or ')})`;
  });
}

/**
 * How a list is planned: a search term or a metadata filter is planned for its value on each call
 * (a rare term probes the trigram or GIN index, a common one reads in key order), everything else
 * once, as a prepared statement.
 */
const planOf = (filter: OrganizationFilter): QueryOptions => ({
  prepare: !filter.nameSearch && !filter.metadata?.length,
});

/** The FROM and WHERE of a list (its keyset aside), shared by the list and its count. */
function filterSql(filter: OrganizationFilter, params: unknown[]) {
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
  if (filter.metadata?.length) where.push(...metadataConditionsSql(filter.metadata, params));
  return { from, where, keyColumn };
}

export async function listOrganizations(
  db: Queryable,
  filter: OrganizationFilter,
  page: PageRequest,
): Promise<ListedOrganizationRow[]> {
  const params: unknown[] = [];
  const { from, where, keyColumn } = filterSql(filter, params);
  const columns = listColumnsSql(filter.privateReadableBy, params);
  const keyset = keysetSql(keyColumn, page, params);
  where.push(keyset.where);
  return db.query<ListedOrganizationRow>(
    `select ${columns} from ${from} where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
    planOf(filter),
  );
}

/** `listOrganizations` reading only ids, versions and whether private metadata may be read. */
export async function listOrganizationVersions(
  db: Queryable,
  filter: OrganizationFilter,
  page: PageRequest,
): Promise<ListedVersionRow[]> {
  const params: unknown[] = [];
  const { from, where, keyColumn } = filterSql(filter, params);
  const readable = filter.privateReadableBy ? privateReadableSql(filter.privateReadableBy, params) : 'true';
  const keyset = keysetSql(keyColumn, page, params);
  where.push(keyset.where);
  return db.query<ListedVersionRow>(
    `select o.id, ${VERSION}, ${readable} as private_readable from ${from}
      where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
    planOf(filter),
  );
}

/** Organizations by id with their versions, to be rendered. */
export async function findVersionedOrganizations(
  db: Queryable,
  ids: string[],
): Promise<(OrganizationRow & { version: string })[]> {
  return db.query(`select ${ORG_COLUMNS}, ${VERSION} from organizations o where o.id = any($1::uuid[])`, [
    ids,
  ]);
}

/** How many organizations the filter matches, on every page together. */
export async function countOrganizations(db: Queryable, filter: OrganizationFilter): Promise<number> {
  const params: unknown[] = [];
  const { from, where } = filterSql(filter, params);
  const rows = await db.query<{ count: number }>(
    `select count(*)::int as count from ${from} where ${where.length > 0 ? where.join(' and ') : 'true'}`,
    params,
    planOf(filter),
  );
  return rows[0]?.count ?? 0;
}

/**
 * The caller's role on each of `ids` it can reach (organizations it cannot reach are left out)
 * and how many direct members each has.
 */
export async function findStandings(
  db: Queryable,
  principal: Principal,
  ids: string[],
): Promise<{ id: string; caller_role: Role; member_count: number }[]> {
  const params: unknown[] = [];
  const role = callerRoleSql(principal, params);
  params.push(ids);
  return db.query(
    `select id, caller_role, member_count from (
       select o.id, ${role} as caller_role,
              (select count(*)::int from memberships m where m.organization_id = o.id) as member_count
         from organizations o where o.id = any($${params.length}::uuid[])) standing
      where caller_role is not null`,
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

/**
 * Tables whose rows belong to one organization and carry its tree's root (so that the tables can
 * be sharded by tenant): a moved subtree takes its rows along. Usage, audit events and webhook
 * deliveries keep the root they were recorded under.
 */
const MOVES_WITH_ITS_ORGANIZATION = [
  'memberships',
  'api_keys',
  'projects',
  'webhook_endpoints',
  'organization_integrations',
  'deployments',
  'budgets',
  'invitations',
  'invite_links',
  'roles',
];

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
  for (const table of MOVES_WITH_ITS_ORGANIZATION) {
    await db.query(
      `update ${table} set root_id = $2
        where organization_id in (select id from organizations where id = $1 or ancestor_ids @> array[$1::uuid])`,
      [org.id, newRootId],
    );
  }
}

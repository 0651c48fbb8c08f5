import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';
import type { Features } from './schemas.js';

export interface LicenseRow {
  id: string;
  name: string | null;
  plan: string;
  seats: number | null;
  features: Features;
  expires_at: string | null;
  expired: boolean;
  metadata: Record<string, unknown>;
  organization_id: string | null;
  assigned_at: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const EXPIRED = (table: string) => `(${table}expires_at is not null and ${table}expires_at <= now())`;

const COLUMNS = `l.id, l.name, l.plan, l.seats, l.features, ${isoColumn('l.expires_at')}, ${EXPIRED('l.')} as expired,
  l.metadata, l.organization_id, ${isoColumn('l.assigned_at')}, ${isoColumn('l.created_at')},
  ${isoColumn('l.updated_at')}, ${isoColumn('l.deleted_at')}`;
const RETURNING = COLUMNS.replaceAll('l.', '');

export interface NewLicense {
  id: string;
  name: string | null;
  plan: string;
  seats: number | null;
  features: Features;
  expiresAt: string | null;
  metadata: Record<string, unknown>;
}

export async function insertLicense(db: Queryable, license: NewLicense): Promise<LicenseRow> {
  const rows = await db.query<LicenseRow>(
    `insert into licenses (id, name, plan, seats, features, expires_at, metadata)
     values ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb) returning ${RETURNING}`,
    [
      license.id,
      license.name,
      license.plan,
      license.seats,
      license.features,
      license.expiresAt,
      license.metadata,
    ],
  );
  return rows[0]!;
}

export async function findLicense(
  db: Queryable,
  id: string,
  options: { includeDeleted?: boolean; lock?: boolean } = {},
): Promise<LicenseRow | undefined> {
  const rows = await db.query<LicenseRow>(
    `select ${COLUMNS} from licenses l
      where l.id = $1 ${options.includeDeleted ? '' : 'and l.deleted_at is null'}
      ${options.lock ? 'for update of l' : ''}`,
    [id.toLowerCase()],
  );
  return rows[0];
}

/** The license assigned to this organization itself, if any. */
export async function findLicenseOfOrganization(
  db: Queryable,
  organizationId: string,
  lock = false,
): Promise<LicenseRow | undefined> {
  const rows = await db.query<LicenseRow>(
    `select ${COLUMNS} from licenses l where l.organization_id = $1 ${lock ? 'for update of l' : ''}`,
    [organizationId],
  );
  return rows[0];
}

/**
 * The license of the nearest organization on `path` (root first) that holds one, expired or not,
 * with the organization holding it: what covers an organization whose path this is.
 */
export async function findNearestLicense(db: Queryable, path: string[]): Promise<LicenseRow | undefined> {
  const rows = await db.query<LicenseRow>(
    `select ${COLUMNS} from licenses l
      where l.organization_id = any($1::uuid[])
      order by array_position($1::uuid[], l.organization_id) desc limit 1`,
    [path],
  );
  return rows[0];
}

export interface LicenseFilter {
  plan?: string;
  assigned?: boolean;
  expired?: boolean;
  organizationId?: string;
  includeDeleted: boolean;
}

export async function listLicenses(db: Queryable, filter: LicenseFilter, page: PageRequest) {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.plan !== undefined) {
    params.push(filter.plan);
    where.push(`l.plan = $${params.length}`);
  }
  if (filter.assigned !== undefined) {
    where.push(`l.organization_id is ${filter.assigned ? 'not null' : 'null'}`);
  }
  if (filter.expired !== undefined) where.push(filter.expired ? EXPIRED('l.') : `not ${EXPIRED('l.')}`);
  if (filter.organizationId !== undefined) {
    params.push(filter.organizationId.toLowerCase());
    where.push(`l.organization_id = $${params.length}`);
  }
  if (!filter.includeDeleted) where.push('l.deleted_at is null');
  const keyset = keysetSql('l.id', page, params);
  where.push(keyset.where);
  return db.query<LicenseRow>(
    `select ${COLUMNS} from licenses l where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

const UPDATABLE = {
  name: { column: 'name' },
  plan: { column: 'plan' },
  seats: { column: 'seats' },
  features: { column: 'features', cast: 'jsonb' },
  expires_at: { column: 'expires_at', cast: 'timestamptz' },
  metadata: { column: 'metadata', cast: 'jsonb' },
};

export async function updateLicense(
  db: Queryable,
  id: string,
  changes: Record<string, unknown>,
): Promise<LicenseRow> {
  const params: unknown[] = [id];
  const rows = await db.query<LicenseRow>(
    `update licenses set ${setClause(changes, UPDATABLE, params)} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

/** Assigns the license to an organization, or (null) frees it. */
export async function setLicenseOrganization(
  db: Queryable,
  id: string,
  organizationId: string | null,
): Promise<LicenseRow> {
  const rows = await db.query<LicenseRow>(
    `update licenses set organization_id = $2, assigned_at = case when $2::uuid is null then null else now() end,
            ${touchUpdatedAt()}
      where id = $1 returning ${RETURNING}`,
    [id, organizationId],
  );
  return rows[0]!;
}

/** Soft delete (which also unassigns) or restore (the license comes back unassigned). */
export async function setLicenseDeleted(db: Queryable, id: string, deleted: boolean): Promise<LicenseRow> {
  const rows = await db.query<LicenseRow>(
    `update licenses
        set ${deleted ? 'deleted_at = now(), organization_id = null, assigned_at = null' : 'deleted_at = null'},
            ${touchUpdatedAt()}
      where id = $1 returning ${RETURNING}`,
    [id],
  );
  return rows[0]!;
}

/**
 * Seat use in the pool an organization heads: distinct users holding a membership in a live
 * organization of its subtree, leaving out subtrees headed by another licensed organization (they
 * are pools of their own). `counted` says which of `userIds` already hold a seat there.
 */
export async function countSeats(
  db: Queryable,
  headId: string,
  userIds: string[],
): Promise<{ used: number; counted: string[] }> {
  const rows = await db.query<{ used: number; counted: string[] }>(
    `with nested as (
       select l.organization_id as id from licenses l join organizations o on o.id = l.organization_id
        where o.ancestor_ids @> array[$1::uuid]
     )
     select count(distinct m.user_id)::int as used,
            coalesce(array_agg(distinct m.user_id) filter (where m.user_id = any($2::uuid[])), '{}') as counted
       from organizations d join memberships m on m.organization_id = d.id
      where (d.id = $1 or d.ancestor_ids @> array[$1::uuid]) and d.deleted_at is null
        and not exists (select 1 from nested n where n.id = d.id or d.ancestor_ids @> array[n.id])`,
    [headId, userIds],
  );
  return rows[0] ?? { used: 0, counted: [] };
}

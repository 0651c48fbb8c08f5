import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';

export interface IntegrationRow {
  id: string;
  organization_id: string;
  root_id: string;
  kind: string;
  external_id: string;
  display_name: string | null;
  config: Record<string, unknown>;
  /** The names only: reads never load the sealed values. */
  secret_fields: string[];
  secrets_updated_at: string | null;
  environment_mapping: Record<string, string>;
  created_by_user_id: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const secretNames = (table: string) =>
  `array(select name from jsonb_object_keys(${table}sealed_secrets) as name order by name collate "C") as secret_fields`;

const COLUMNS = `i.id, i.organization_id, i.root_id, i.kind, i.external_id, i.display_name, i.config,
  ${secretNames('i.')}, ${isoColumn('i.secrets_updated_at')}, i.environment_mapping, i.created_by_user_id,
  ${isoColumn('i.created_at')}, ${isoColumn('i.updated_at')}, ${isoColumn('i.deleted_at')}`;
const RETURNING = COLUMNS.replaceAll('i.', '');

export interface NewIntegration {
  id: string;
  organization_id: string;
  root_id: string;
  kind: string;
  external_id: string;
  display_name: string | null;
  config: Record<string, unknown>;
  sealed_secrets: Record<string, string>;
  environment_mapping: Record<string, string>;
  created_by_user_id: string | null;
}

export async function insertIntegration(db: Queryable, row: NewIntegration): Promise<IntegrationRow> {
  const rows = await db.query<IntegrationRow>(
    `insert into organization_integrations
       (id, organization_id, root_id, kind, external_id, display_name, config, sealed_secrets,
        secrets_updated_at, environment_mapping, created_by_user_id)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb,
             case when $8::jsonb = '{}'::jsonb then null else now() end, $9::jsonb, $10)
     returning ${RETURNING}`,
    [
      row.id,
      row.organization_id,
      row.root_id,
      row.kind,
      row.external_id,
      row.display_name,
      row.config,
      row.sealed_secrets,
      row.environment_mapping,
      row.created_by_user_id,
    ],
  );
  return rows[0]!;
}

export async function findIntegration(
  db: Queryable,
  organizationId: string,
  id: string,
  options: { includeDeleted: boolean; lock?: boolean },
): Promise<IntegrationRow | undefined> {
  const rows = await db.query<IntegrationRow>(
    `select ${COLUMNS} from organization_integrations i
      where i.organization_id = $1 and i.id = $2 ${options.includeDeleted ? '' : 'and i.deleted_at is null'}
      ${options.lock ? 'for update of i' : ''}`,
    [organizationId, id],
  );
  return rows[0];
}

export interface IntegrationFilter {
  kind?: string;
  includeDeleted: boolean;
}

/** The WHERE of a list (its keyset aside), shared by the list and its count. */
function filterSql(organizationId: string, filter: IntegrationFilter, params: unknown[]): string[] {
  params.push(organizationId);
  const where = [`i.organization_id = $${params.length}`];
  if (filter.kind) {
    params.push(filter.kind);
    where.push(`i.kind = $${params.length}`);
  }
  if (!filter.includeDeleted) where.push('i.deleted_at is null');
  return where;
}

export async function listIntegrations(
  db: Queryable,
  organizationId: string,
  filter: IntegrationFilter,
  page: PageRequest,
): Promise<IntegrationRow[]> {
  const params: unknown[] = [];
  const where = filterSql(organizationId, filter, params);
  const keyset = keysetSql('i.id', page, params);
  where.push(keyset.where);
  return db.query<IntegrationRow>(
    `select ${COLUMNS} from organization_integrations i where ${where.join(' and ')}
      order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

export async function countIntegrations(
  db: Queryable,
  organizationId: string,
  filter: IntegrationFilter,
): Promise<number> {
  const params: unknown[] = [];
  const where = filterSql(organizationId, filter, params);
  const rows = await db.query<{ count: number }>(
    `select count(*)::int as count from organization_integrations i where ${where.join(' and ')}`,
    params,
  );
  return rows[0]?.count ?? 0;
}

export interface IntegrationChanges {
  display_name?: string | null;
  config?: Record<string, unknown>;
  /** Sealed values to set or replace, by name. */
  sealSecrets?: Record<string, string>;
  /** Secret names to remove. */
  removeSecrets?: string[];
}

/** Secrets are merged in the statement, so the sealed values never travel back to the application. */
export async function updateIntegration(
  db: Queryable,
  id: string,
  changes: IntegrationChanges,
): Promise<IntegrationRow> {
  const params: unknown[] = [id];
  const sets: string[] = [];
  if (changes.display_name !== undefined) {
    params.push(changes.display_name);
    sets.push(`display_name = $${params.length}`);
  }
  if (changes.config !== undefined) {
    params.push(changes.config);
    sets.push(`config = $${params.length}::jsonb`);
  }
  const seal = changes.sealSecrets ?? {};
  const remove = changes.removeSecrets ?? [];
  if (Object.keys(seal).length > 0 || remove.length > 0) {
    params.push(seal, remove);
    const merged = `(sealed_secrets - $${params.length}::text[]) || $${params.length - 1}::jsonb`;
    sets.push(
      `secrets_updated_at = case when ${merged} = sealed_secrets then secrets_updated_at else now() end`,
    );
    sets.push(`sealed_secrets = ${merged}`);
  }
  sets.push(touchUpdatedAt());
  const rows = await db.query<IntegrationRow>(
    `update organization_integrations set ${sets.join(', ')} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

export async function setEnvironmentMapping(
  db: Queryable,
  id: string,
  mapping: Record<string, string>,
): Promise<IntegrationRow> {
  const rows = await db.query<IntegrationRow>(
    `update organization_integrations set environment_mapping = $2::jsonb, ${touchUpdatedAt()}
      where id = $1 returning ${RETURNING}`,
    [id, mapping],
  );
  return rows[0]!;
}

/** Disconnecting keeps the row for the trail but erases its secrets: nothing is left to leak or reuse. */
export async function disconnectIntegration(db: Queryable, id: string): Promise<IntegrationRow> {
  const rows = await db.query<IntegrationRow>(
    `update organization_integrations
        set deleted_at = now(), sealed_secrets = '{}'::jsonb,
            secrets_updated_at = case when sealed_secrets = '{}'::jsonb then secrets_updated_at else now() end,
            ${touchUpdatedAt()}
      where id = $1 returning ${RETURNING}`,
    [id],
  );
  return rows[0]!;
}

/** The sealed secrets of a live integration, for code that calls the outside service. */
export async function findSealedSecrets(
  db: Queryable,
  id: string,
): Promise<{ organization_id: string; sealed_secrets: Record<string, string> } | undefined> {
  const rows = await db.query<{ organization_id: string; sealed_secrets: Record<string, string> }>(
    `select organization_id, sealed_secrets from organization_integrations where id = $1 and deleted_at is null`,
    [id],
  );
  return rows[0];
}

/**
 * The live projects of an organization among `ids` and `slugs`, as (id, slug) pairs: what an
 * environment mapping may point at. One statement, both lookups through indexes.
 */
export async function findLiveProjects(
  db: Queryable,
  organizationId: string,
  ids: string[],
  slugs: string[],
): Promise<{ id: string; slug: string }[]> {
  return db.query<{ id: string; slug: string }>(
    `select id, slug from projects
      where organization_id = $1 and deleted_at is null and (id = any($2::uuid[]) or slug = any($3::text[]))`,
    [organizationId, ids, slugs],
  );
}

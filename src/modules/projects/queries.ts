import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import { setClause } from '../../db/updates.js';
import type { PageRequest } from '../../http/pagination.js';
import { isUuid } from '../../http/schemas.js';

export interface ProjectRow {
  id: string;
  organization_id: string;
  root_id: string;
  name: string;
  slug: string;
  description: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const COLUMNS = `p.id, p.organization_id, p.root_id, p.name, p.slug, p.description, p.metadata,
  ${isoColumn('p.created_at')}, ${isoColumn('p.updated_at')}, ${isoColumn('p.deleted_at')}`;
const RETURNING = COLUMNS.replaceAll('p.', '');

export async function insertProject(
  db: Queryable,
  project: Omit<ProjectRow, 'created_at' | 'updated_at' | 'deleted_at'>,
): Promise<ProjectRow> {
  const rows = await db.query<ProjectRow>(
    `insert into projects (id, organization_id, root_id, name, slug, description, metadata)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb) returning ${RETURNING}`,
    [
      project.id,
      project.organization_id,
      project.root_id,
      project.name,
      project.slug,
      project.description,
      project.metadata,
    ],
  );
  return rows[0]!;
}

/** By id or slug; a slug names the live project, or among deleted ones the latest deleted. */
export async function findProject(
  db: Queryable,
  organizationId: string,
  ref: string,
  options: { includeDeleted: boolean; lock?: boolean },
): Promise<ProjectRow | undefined> {
  const match = isUuid(ref) ? 'p.id = $2' : 'p.slug = $2';
  const rows = await db.query<ProjectRow>(
    `select ${COLUMNS} from projects p
      where p.organization_id = $1 and ${match} ${options.includeDeleted ? '' : 'and p.deleted_at is null'}
      order by p.deleted_at desc nulls first limit 1 ${options.lock ? 'for update of p' : ''}`,
    [organizationId, isUuid(ref) ? ref.toLowerCase() : ref],
  );
  return rows[0];
}

export async function slugIsTaken(db: Queryable, organizationId: string, slug: string): Promise<boolean> {
  const rows = await db.query<{ taken: boolean }>(
    `select exists(select 1 from projects where organization_id = $1 and slug = $2 and deleted_at is null) as taken`,
    [organizationId, slug],
  );
  return rows[0]?.taken ?? false;
}

export async function listProjects(
  db: Queryable,
  organizationId: string,
  filter: { nameSearch?: string; includeDeleted: boolean },
  page: PageRequest,
): Promise<ProjectRow[]> {
  const params: unknown[] = [organizationId];
  const where = ['p.organization_id = $1'];
  if (filter.nameSearch) {
    params.push(`%${filter.nameSearch.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`p.name ilike $${params.length}`);
  }
  if (!filter.includeDeleted) where.push('p.deleted_at is null');
  const keyset = keysetSql('p.id', page, params);
  where.push(keyset.where);
  return db.query<ProjectRow>(
    `select ${COLUMNS} from projects p where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

const UPDATABLE = {
  name: { column: 'name' },
  slug: { column: 'slug' },
  description: { column: 'description' },
  metadata: { column: 'metadata', cast: 'jsonb' },
};

export async function updateProject(db: Queryable, id: string, changes: Record<string, unknown>) {
  const params: unknown[] = [id];
  const rows = await db.query<ProjectRow>(
    `update projects set ${setClause(changes, UPDATABLE, params)} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

export async function setProjectDeleted(db: Queryable, id: string, deleted: boolean): Promise<ProjectRow> {
  const rows = await db.query<ProjectRow>(
    `update projects set deleted_at = ${deleted ? 'now()' : 'null'}, ${touchUpdatedAt()}
      where id = $1 returning ${RETURNING}`,
    [id],
  );
  return rows[0]!;
}

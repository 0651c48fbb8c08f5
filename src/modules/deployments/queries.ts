import type { Queryable } from '../../db/client.js';
import { isoColumn, touchUpdatedAt } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';

export interface DeploymentRow {
  id: string;
  license_id: string;
  organization_id: string | null;
  root_id: string | null;
  name: string;
  version: string;
  hostname: string | null;
  metadata: Record<string, unknown>;
  last_seen_at: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const COLUMNS = `d.id, d.license_id, d.organization_id, d.root_id, d.name, d.version, d.hostname, d.metadata,
  ${isoColumn('d.last_seen_at')}, ${isoColumn('d.created_at')}, ${isoColumn('d.updated_at')},
  ${isoColumn('d.deleted_at')}`;
const RETURNING = COLUMNS.replaceAll('d.', '');

export interface Report {
  licenseId: string;
  organizationId: string | null;
  rootId: string | null;
  name: string;
  version: string;
  hostname: string | null | undefined;
  metadata: Record<string, unknown> | undefined;
}

/** The first report of a name under a license; undefined when a live deployment has the name already. */
export async function insertDeployment(
  db: Queryable,
  id: string,
  report: Report,
): Promise<DeploymentRow | undefined> {
  const rows = await db.query<DeploymentRow>(
    `insert into deployments (id, license_id, organization_id, root_id, name, version, hostname, metadata)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
     on conflict (license_id, name) where deleted_at is null do nothing
     returning ${RETURNING}`,
    [
      id,
      report.licenseId,
      report.organizationId,
      report.rootId,
      report.name,
      report.version,
      report.hostname ?? null,
      report.metadata ?? {},
    ],
  );
  return rows[0];
}

export async function findLiveDeploymentByName(
  db: Queryable,
  licenseId: string,
  name: string,
): Promise<DeploymentRow | undefined> {
  const rows = await db.query<DeploymentRow>(
    `select ${COLUMNS} from deployments d
      where d.license_id = $1 and d.name = $2 and d.deleted_at is null for update of d`,
    [licenseId, name],
  );
  return rows[0];
}

/** A heartbeat: the version, who holds the license now, and (when given) hostname and metadata. */
export async function recordHeartbeat(db: Queryable, id: string, report: Report): Promise<DeploymentRow> {
  const params: unknown[] = [id, report.version, report.organizationId, report.rootId];
  const sets = ['version = $2', 'organization_id = $3', 'root_id = $4', 'last_seen_at = now()'];
  if (report.hostname !== undefined) {
    params.push(report.hostname);
    sets.push(`hostname = $${params.length}`);
  }
  if (report.metadata !== undefined) {
    params.push(report.metadata);
    sets.push(`metadata = $${params.length}::jsonb`);
  }
  const rows = await db.query<DeploymentRow>(
    `update deployments set ${sets.join(', ')}, ${touchUpdatedAt()} where id = $1 returning ${RETURNING}`,
    params,
  );
  return rows[0]!;
}

export async function findDeployment(
  db: Queryable,
  licenseId: string,
  id: string,
): Promise<DeploymentRow | undefined> {
  const rows = await db.query<DeploymentRow>(
    `select ${COLUMNS} from deployments d
      where d.license_id = $1 and d.id = $2 and d.deleted_at is null for update of d`,
    [licenseId, id.toLowerCase()],
  );
  return rows[0];
}

export async function softDeleteDeployment(db: Queryable, id: string): Promise<DeploymentRow> {
  const rows = await db.query<DeploymentRow>(
    `update deployments set deleted_at = now(), ${touchUpdatedAt()} where id = $1 returning ${RETURNING}`,
    [id],
  );
  return rows[0]!;
}

export interface DeploymentFilter {
  licenseId: string;
  /** Only those that reported while this organization held the license. */
  organizationId?: string;
  seenSince?: string;
  notSeenSince?: string;
  includeDeleted: boolean;
}

export async function listDeployments(db: Queryable, filter: DeploymentFilter, page: PageRequest) {
  const params: unknown[] = [filter.licenseId];
  const where = ['d.license_id = $1'];
  if (filter.organizationId !== undefined) {
    params.push(filter.organizationId);
    where.push(`d.organization_id = $${params.length}`);
  }
  if (filter.seenSince !== undefined) {
    params.push(filter.seenSince);
    where.push(`d.last_seen_at >= $${params.length}`);
  }
  if (filter.notSeenSince !== undefined) {
    params.push(filter.notSeenSince);
    where.push(`d.last_seen_at < $${params.length}`);
  }
  if (!filter.includeDeleted) where.push('d.deleted_at is null');
  const keyset = keysetSql('d.id', page, params);
  where.push(keyset.where);
  return db.query<DeploymentRow>(
    `select ${COLUMNS} from deployments d where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

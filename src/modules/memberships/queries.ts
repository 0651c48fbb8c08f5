import type { Queryable } from '../../db/client.js';
import { isoColumn } from '../../db/columns.js';
import { keysetSql } from '../../db/keyset.js';
import type { PageRequest } from '../../http/pagination.js';
import type { Role } from '../members/roles.js';

export interface UserMembershipRow {
  organization_id: string;
  user_id: string;
  role: Role;
  public_metadata: Record<string, unknown>;
  organization_slug: string;
  organization_name: string;
  created_at: string;
  updated_at: string;
}

/**
 * The user's direct memberships in live organizations, ordered by organization id: one range of
 * `memberships_user_idx` (user_id, organization_id) joined to the organizations.
 */
export async function listUserMemberships(
  db: Queryable,
  userId: string,
  filter: { role?: Role },
  page: PageRequest,
): Promise<UserMembershipRow[]> {
  const params: unknown[] = [userId];
  const where = ['m.user_id = $1', 'o.deleted_at is null'];
  if (filter.role) {
    params.push(filter.role);
    where.push(`m.role = $${params.length}`);
  }
  const keyset = keysetSql('m.organization_id', page, params);
  where.push(keyset.where);
  return db.query<UserMembershipRow>(
    `select m.organization_id, m.user_id, m.role, m.public_metadata, o.slug as organization_slug,
            o.name as organization_name, ${isoColumn('m.created_at')}, ${isoColumn('m.updated_at')}
       from memberships m join organizations o on o.id = m.organization_id
      where ${where.join(' and ')} order by ${keyset.order} ${keyset.tail}`,
    params,
  );
}

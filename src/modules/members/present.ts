import type { MemberRow } from './queries.js';
import type { Member } from './schemas.js';

/** `privateReadable`: whether the caller may read the membership's private metadata (left out if not). */
export function presentMember(row: MemberRow, organizationId: string, privateReadable: boolean): Member {
  return {
    organization_id: organizationId,
    user_id: row.user_id,
    email: row.email,
    name: row.name,
    external_id: row.external_id,
    role: row.custom_role_key ?? row.role,
    role_id: row.custom_role_id ?? row.role,
    base_role: row.role,
    inherited: row.via_organization_id !== organizationId,
    via_organization_id: row.via_organization_id,
    public_metadata: row.public_metadata,
    // Undefined rather than absent, so every answer has one shape; the serializer leaves it out.
    private_metadata: privateReadable ? row.private_metadata : undefined,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

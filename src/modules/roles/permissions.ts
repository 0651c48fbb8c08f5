import { atLeast, ROLES, type Role } from '../members/roles.js';

/**
 * The published permissions: what a custom role may grant on top of its base role. Each is held
 * by the built-in roles from `role` up, so a service need `{role, permission}` passes for those
 * roles by rank and for anyone whose custom role on the path grants the permission. Owner-only
 * actions (deleting or moving an organization, transferring ownership, granting the owner role)
 * are deliberately not here: no custom role can reach them.
 */
export const PERMISSIONS = {
  'organization:update': {
    role: 'admin',
    description: "Change the organization's names, domain, settings and metadata, and those of its teams.",
  },
  'team:create': {
    role: 'admin',
    description: 'Create teams inside the organization, and move an organization under it.',
  },
  'team:delete': { role: 'admin', description: "Delete and restore the organization's teams." },
  'member:manage': {
    role: 'admin',
    description: "Add members, change their roles and remove them, at or below the caller's own role.",
  },
  'invitation:manage': {
    role: 'admin',
    description: "Invite people and revoke or resend invitations, at or below the caller's own role.",
  },
  'role:manage': {
    role: 'admin',
    description: "Create, change and delete custom roles, at or below the caller's own role.",
  },
  'project:manage': { role: 'admin', description: 'Create, change, delete and restore projects.' },
  'api_key:manage': {
    role: 'admin',
    description:
      'List and revoke organization API keys. Creating one needs the admin role itself: the key acts as an admin.',
  },
  'webhook:manage': {
    role: 'admin',
    description: 'Register, change and remove webhook endpoints and read their deliveries.',
  },
  'audit:read': { role: 'admin', description: "Read the organization's audit trail." },
  'billing:manage': {
    role: 'admin',
    description: "Set the organization's monthly budget and maximum overage.",
  },
  'integration:manage': { role: 'admin', description: 'Connect, configure and disconnect integrations.' },
  'usage:write': { role: 'admin', description: 'Report usage records for the organization.' },
} as const satisfies Record<string, { role: Exclude<Role, 'owner'>; description: string }>;

export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_NAMES = Object.keys(PERMISSIONS).sort() as Permission[];

const NAMES = new Set<string>(PERMISSION_NAMES);
export const isPermission = (name: string): name is Permission => NAMES.has(name);

/** The permissions a built-in role holds by rank. */
export function builtinPermissions(role: Role | null | undefined): Permission[] {
  return PERMISSION_NAMES.filter((name) => atLeast(role, PERMISSIONS[name].role));
}

/** The built-in roles that hold a permission, lowest first. */
export function rolesHolding(permission: Permission): Role[] {
  return ROLES.filter((role) => atLeast(role, PERMISSIONS[permission].role));
}

/**
 * A service need for a permission: the built-in rank that holds it, plus the permission a custom
 * role may grant instead. Use it so the published list and the checks cannot drift apart.
 */
export function needing<S extends string>(permission: Permission, scope: S) {
  return { role: PERMISSIONS[permission].role, scope, permission } as const;
}

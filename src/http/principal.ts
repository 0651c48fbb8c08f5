import { ApiError } from './errors.js';

/**
 * Every scope a key can hold. Keys store their list as it was when they were made, so a scope
 * added here needs a migration that grants it to every stored key holding all the scopes that
 * existed before it (keys made "with all scopes", admin keys): see drizzle/0008_integration_scopes.sql.
 */
export const SCOPES = [
  'organization:read',
  'organization:write',
  'member:read',
  'member:write',
  'user:read',
  'user:write',
  'api_key:read',
  'api_key:write',
  'organization_integration:read',
  'organization_integration:write',
  'usage:read',
  'usage:write',
] as const;

export type Scope = (typeof SCOPES)[number];

/** The request a principal acts through, recorded with what it changes. */
export interface RequestOrigin {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

/** Who is calling: taken from the credential, never from the request body. */
export interface Principal {
  kind: 'admin' | 'user' | 'organization';
  /** How the caller proved who it is: an API key, or a verified JWT (always a user). */
  via: 'api_key' | 'jwt';
  /** The API key used; null for JWT callers, who present none. */
  keyId: string | null;
  userId: string | null;
  organizationId: string | null;
  /** The scopes the key was given, as stored. */
  scopes: readonly Scope[];
  /** Given scopes plus the read scopes their write scopes imply. */
  granted: ReadonlySet<Scope>;
  /** The JWT's `amr` claim (RFC 8176) as sent; empty for API keys. */
  authMethods: readonly string[];
  /** `authMethods` show a second factor; organizations with `enforce_2fa` refuse JWT callers without one. */
  secondFactor: boolean;
  /** Set per request by the HTTP layer; absent for work not started by a request. */
  origin?: RequestOrigin;
}

export function expandScopes(scopes: readonly string[]): Set<Scope> {
  const granted = new Set<Scope>();
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) continue;
    granted.add(scope as Scope);
    if (scope.endsWith(':write')) granted.add(scope.replace(':write', ':read') as Scope);
  }
  return granted;
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.granted.has(scope)) {
    throw new ApiError('insufficient_scope', `This API key lacks the \`${scope}\` scope.`);
  }
}

export function requireAdmin(principal: Principal): void {
  if (principal.kind !== 'admin') throw new ApiError('forbidden', 'Only an instance admin key may do this.');
}

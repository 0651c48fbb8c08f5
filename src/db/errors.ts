import { ApiError } from '../http/errors.js';

interface PgError {
  code?: string;
  constraint?: string;
  constraint_name?: string;
}

/** What a violated constraint means to a client. Keyed by the constraint names in the migrations. */
const UNIQUE_VIOLATIONS: Record<string, () => ApiError> = {
  organizations_slug_live_key: () =>
    new ApiError('slug_taken', 'Another organization already uses this slug.', 'slug'),
  users_email_live_key: () => new ApiError('email_taken', 'A user with this email already exists.', 'email'),
  users_external_id_live_key: () =>
    new ApiError('external_id_taken', 'A user with this external_id already exists.', 'external_id'),
  projects_slug_live_key: () =>
    new ApiError('slug_taken', 'Another project of this organization already uses this slug.', 'slug'),
  projects_name_live_key: () =>
    new ApiError('name_taken', 'Another project of this organization already has this name.', 'name'),
  licenses_organization_key: () =>
    new ApiError('conflict', 'The organization was given another license at the same time; retry.'),
  deployments_name_live_key: () =>
    new ApiError('conflict', 'A deployment with this name was registered at the same time; retry.', 'name'),
  organization_integrations_external_id_live_key: () =>
    new ApiError(
      'integration_already_connected',
      'This organization already has a live integration of this kind for this external_id.',
      'external_id',
    ),
  invitations_pending_key: () =>
    new ApiError(
      'already_invited',
      'This email already has a pending invitation to the organization.',
      'email',
    ),
  roles_key_live_key: () =>
    new ApiError('key_taken', 'Another live role of this organization already uses this key.', 'key'),
  memberships_organization_id_user_id_pk: () =>
    new ApiError('already_member', 'The user is already a member of this organization.', 'user_id'),
};

/**
 * The database could not be reached, dropped the connection or is shutting down: nothing was wrong
 * with the request, and the same request may succeed in a moment. postgres.js's own codes, the
 * socket's, and SQLSTATE class 08 (connection exception) and 57P0x (shutdown) and 53300.
 */
const UNAVAILABLE = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

function isDatabaseUnavailable(code: string | undefined): boolean {
  return code !== undefined && (UNAVAILABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code));
}

/** Turns a database error into the API error it stands for, or returns undefined if it is a real fault. */
export function apiErrorFromDatabase(error: unknown): ApiError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const pg = error as PgError;
  const constraint = pg.constraint ?? pg.constraint_name ?? '';
  if (isDatabaseUnavailable(pg.code)) {
    return new ApiError('service_unavailable', 'The database is unavailable; retry in a moment.');
  }
  switch (pg.code) {
    case '23505':
      return UNIQUE_VIOLATIONS[constraint]?.() ?? new ApiError('conflict', 'The resource already exists.');
    case '23503':
      return new ApiError('conflict', 'A resource this change refers to does not exist any more.');
    case '22003':
      return new ApiError(
        'unprocessable',
        'A total grew past what can be stored; split the data differently.',
      );
    case '40001':
    case '40P01':
      return new ApiError('conflict', 'The request conflicted with a concurrent change; retry it.');
    default:
      return undefined;
  }
}

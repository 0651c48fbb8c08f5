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
  roles_key_live_key: () =>
    new ApiError('key_taken', 'Another live role of this organization already uses this key.', 'key'),
  memberships_organization_id_user_id_pk: () =>
    new ApiError('already_member', 'The user is already a member of this organization.', 'user_id'),
};

/** Turns a database error into the API error it stands for, or returns undefined if it is a real fault. */
export function apiErrorFromDatabase(error: unknown): ApiError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const pg = error as PgError;
  const constraint = pg.constraint ?? pg.constraint_name ?? '';
  switch (pg.code) {
    case '23505':
      return UNIQUE_VIOLATIONS[constraint]?.() ?? new ApiError('conflict', 'The resource already exists.');
    case '23503':
      return new ApiError('conflict', 'A resource this change refers to does not exist any more.');
    case '40001':
    case '40P01':
      return new ApiError('conflict', 'The request conflicted with a concurrent change; retry it.');
    default:
      return undefined;
  }
}

/** Every error code the API can answer with, and the HTTP status it maps to. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_cursor: 400,
  unknown_role: 400,
  unauthenticated: 401,
  invalid_api_key: 401,
  invalid_token: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_unsigned: 401,
  token_algorithm_not_allowed: 401,
  token_signature_invalid: 401,
  token_issuer_invalid: 401,
  token_audience_invalid: 401,
  token_email_required: 401,
  email_not_verified: 401,
  user_deleted: 401,
  budget_exceeded: 402,
  seat_limit_reached: 402,
  forbidden: 403,
  insufficient_scope: 403,
  personal_api_keys_disabled: 403,
  two_factor_required: 403,
  invitation_email_mismatch: 403,
  not_found: 404,
  invitation_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  slug_taken: 409,
  name_taken: 409,
  email_taken: 409,
  external_id_taken: 409,
  identity_conflict: 409,
  already_member: 409,
  last_owner: 409,
  already_invited: 409,
  invitation_already_accepted: 409,
  duplicate_entry: 409,
  idempotency_key_in_progress: 409,
  idempotency_answer_lost: 409,
  parent_deleted: 409,
  license_assigned_elsewhere: 409,
  integration_already_connected: 409,
  invitation_expired: 410,
  invitation_revoked: 410,
  invite_link_exhausted: 410,
  key_taken: 409,
  role_in_use: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  cycle_detected: 422,
  depth_limit_exceeded: 422,
  unprocessable: 422,
  idempotency_key_reused: 422,
  webhook_target_not_allowed: 422,
  unknown_project: 422,
  builtin_role_read_only: 422,
  rate_limited: 429,
  internal_error: 500,
  secret_unreadable: 500,
  service_unavailable: 503,
  secret_key_not_configured: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'rate_limit_error'
  | 'api_error';

export function errorType(status: number): ErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** The one error type services throw; the error handler turns it into the envelope. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what: string, param: string | null = null) =>
  new ApiError('not_found', `No such ${what}.`, param);

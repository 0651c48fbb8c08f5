/** Every error code the API can answer with, and the HTTP status it maps to. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_cursor: 400,
  unknown_role: 400,
  unauthenticated: 401,
  invalid_api_key: 401,
  forbidden: 403,
  insufficient_scope: 403,
  personal_api_keys_disabled: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  slug_taken: 409,
  name_taken: 409,
  email_taken: 409,
  external_id_taken: 409,
  already_member: 409,
  last_owner: 409,
  idempotency_key_in_progress: 409,
  parent_deleted: 409,
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
  builtin_role_read_only: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
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

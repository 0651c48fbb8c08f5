import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiErrorFromDatabase } from '../db/errors.js';
import { ApiError, type ErrorCode, errorType } from './errors.js';

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Names the field a validation issue is about: `settings.enforce_2fa`, `limit`, `records[3].cost`. */
function fieldOf(issue: ValidationIssue): string | null {
  const path = issue.instancePath.split('/').filter(Boolean);
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') path.push(extra);
  return path.length > 0 ? fieldPath(path) : null;
}

/** `records`, `3`, `cost` -> `records[3].cost`: array positions in brackets, as clients write them. */
export function fieldPath(segments: readonly string[]): string {
  return segments
    .map((segment, i) => (/^\d+$/.test(segment) ? `[${segment}]` : i === 0 ? segment : `.${segment}`))
    .join('');
}

function validationMessage(issue: ValidationIssue, field: string | null, context: string): string {
  const where = field ?? context;
  switch (issue.keyword) {
    case 'additionalProperties':
      return `Unknown field \`${field}\` in ${context}.`;
    case 'required':
      return `\`${field}\` is required.`;
    default:
      return `\`${where}\` ${issue.message ?? 'is invalid'}.`;
  }
}

function fromValidation(error: FastifyError): ApiError {
  const issue = (error.validation as ValidationIssue[] | undefined)?.[0];
  const context = error.validationContext ?? 'request';
  if (!issue) return new ApiError('invalid_request', error.message);
  const field = fieldOf(issue);
  // anyOf/union failures report every branch; the first issue's field is still the one to name.
  return new ApiError('invalid_request', validationMessage(issue, field, context), field ?? context);
}

const FRAMEWORK_ERRORS: Record<string, [ErrorCode, string, string | null]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'The request body is not valid JSON.', 'body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'The request body is empty; send a JSON object.', 'body'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'The request body is too large.', 'body'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    'unsupported_media_type',
    'Send JSON with Content-Type: application/json.',
    null,
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'Content-Length does not match the body.', 'body'],
};

export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) return fromValidation(fastifyError);
  const known = fastifyError?.code ? FRAMEWORK_ERRORS[fastifyError.code] : undefined;
  if (known) return new ApiError(...known);
  // JSON.parse errors from a body parser that is not Fastify's own still mean a malformed body.
  if (error instanceof SyntaxError)
    return new ApiError('invalid_json', 'The request body is not valid JSON.', 'body');
  const fromDb = apiErrorFromDatabase(error);
  if (fromDb) return fromDb;
  const status = fastifyError?.statusCode;
  if (status && status >= 400 && status < 500) return new ApiError('invalid_request', fastifyError.message);
  return undefined;
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: ApiError) {
  return reply.code(error.status).send({
    error: {
      type: errorType(error.status),
      code: error.code,
      message: error.message,
      param: error.param,
      request_id: request.id,
    },
  });
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError) {
      if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(reply, request, apiError);
    }
    // Details of unexpected failures go to the log only: a client never sees SQL or a stack.
    request.log.error({ err: error }, 'unexpected error');
    return sendError(reply, request, new ApiError('internal_error', 'Something went wrong on our side.'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      request,
      new ApiError('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );
}

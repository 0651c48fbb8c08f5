import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/*
 * Optimistic concurrency with ETag and If-Match. A resource's tag is derived from its identity
 * and `updated_at`, which every write moves forward (at least a millisecond, see
 * db/columns.ts TOUCH_UPDATED_AT), so a tag names one version. Reads send it as `ETag`; a write
 * with `If-Match` is checked inside its transaction after the row is locked, so a stale write
 * fails with 412 and changes nothing.
 */

/** Absent: no precondition. '*': the resource must exist. Otherwise one of these tags must match. */
export type IfMatch = readonly string[] | '*' | undefined;

interface Versioned {
  id?: unknown;
  organization_id?: unknown;
  user_id?: unknown;
  updated_at?: unknown;
}

function identity(resource: Versioned): string | null {
  if (typeof resource.id === 'string') return resource.id;
  if (typeof resource.organization_id === 'string' && typeof resource.user_id === 'string') {
    return `${resource.organization_id}/${resource.user_id}`;
  }
  return null;
}

/** The strong entity tag of a resource version, or null for values that are not one resource. */
export function entityTag(resource: Versioned): string | null {
  const id = identity(resource);
  if (!id || typeof resource.updated_at !== 'string') return null;
  const digest = createHash('sha256').update(`${id}@${resource.updated_at}`).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

export function ifMatchOf(request: FastifyRequest): IfMatch {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const value = String(header).trim();
  if (value === '*') return '*';
  const tags = value.split(',').map((tag) => tag.trim());
  if (tags.some((tag) => !/^"[\x21\x23-\x7e]*"$/.test(tag))) {
    throw new ApiError(
      'invalid_request',
      'If-Match must be `*` or a list of quoted entity tags.',
      'If-Match',
    );
  }
  return tags;
}

/** Throws 412 unless the resource as it is now (locked by the caller) satisfies If-Match. */
export function checkIfMatch(ifMatch: IfMatch, current: Versioned): void {
  if (ifMatch === undefined || ifMatch === '*') return;
  const tag = entityTag(current);
  if (!tag || !ifMatch.includes(tag)) {
    throw new ApiError(
      'precondition_failed',
      'The resource changed since the version named in If-Match; read it again and retry.',
      'If-Match',
    );
  }
}

/** Every single resource answered by a route inside `app` carries its ETag. */
export function sendEntityTags(app: FastifyInstance) {
  // A callback hook, not an async one: it runs on every answer and needs no promise.
  app.addHook('preSerialization', (_request, reply, payload, done) => {
    if (reply.statusCode < 300 && payload && typeof payload === 'object' && !Array.isArray(payload)) {
      const tag = entityTag(payload as Versioned);
      if (tag) reply.header('etag', tag);
    }
    done(null, payload);
  });
}

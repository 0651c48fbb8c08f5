import { ApiError } from './errors.js';

const MAX_BYTES = 16 * 1024;
const MAX_DEPTH = 32;

/**
 * Free-form metadata is bounded in size and nesting. Depth is measured without recursion, before
 * anything recursive (serializing, the database's JSON parser) sees a hostile document.
 */
export function checkMetadata(metadata: unknown, param = 'metadata'): void {
  if (metadata === undefined || metadata === null) return;
  const pending: [unknown, number][] = [[metadata, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) {
      throw new ApiError('invalid_request', `${param} may nest at most ${MAX_DEPTH} levels deep.`, param);
    }
    for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
  if (JSON.stringify(metadata).length > MAX_BYTES) {
    throw new ApiError('invalid_request', `${param} must be at most 16 KB of JSON.`, param);
  }
}

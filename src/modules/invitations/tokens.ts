import { ApiError } from '../../http/errors.js';
import { hashSecret, newSecret } from '../api-keys/secrets.js';

/*
 * Invitation and invite-link tokens are secrets like API keys: 40 base62 characters after a
 * prefix, shown once, stored as their SHA-256 hash. The prefix tells the one accept endpoint
 * which table to look in, so an invitation token never matches a link and the other way round.
 */
export const INVITATION_TOKEN_PREFIX = 'osi_';
export const LINK_TOKEN_PREFIX = 'osl_';

export interface NewToken {
  token: string;
  hash: string;
}

export function newToken(prefix: typeof INVITATION_TOKEN_PREFIX | typeof LINK_TOKEN_PREFIX): NewToken {
  const token = newSecret(prefix);
  return { token, hash: hashSecret(token) };
}

export const HOUR = 3600;
export const DEFAULT_EXPIRES_IN = 7 * 24 * HOUR;
export const MAX_EXPIRES_IN = 30 * 24 * HOUR;

export const expiresInDescription =
  'Seconds until it expires: 3600 (an hour) to 2592000 (30 days); 604800 (7 days) if absent.';

/** For values validated one entry at a time (bulk requests); single requests check the schema. */
export function checkExpiresIn(seconds: number | undefined, param: string): number {
  if (seconds === undefined) return DEFAULT_EXPIRES_IN;
  if (!Number.isInteger(seconds) || seconds < HOUR || seconds > MAX_EXPIRES_IN) {
    throw new ApiError(
      'invalid_request',
      `\`expires_in\` must be ${HOUR} to ${MAX_EXPIRES_IN} seconds.`,
      param,
    );
  }
  return seconds;
}

import type { JWTPayload } from 'jose';
import { ApiError } from '../../http/errors.js';
import { validatorCompiler } from '../../http/validation.js';

/** What orgstack takes from a verified token. */
export interface Identity {
  /** `sub`: the user's `external_id`. */
  subject: string;
  email: string | null;
  /** `email_verified` when the token says; null when it does not. */
  emailVerified: boolean | null;
  name: string | null;
  /** `amr` as sent (strings only). */
  authMethods: string[];
  secondFactor: boolean;
}

/**
 * `amr` values (RFC 8176, plus `fido`, which several providers send) that mean more than a
 * password: `mfa`/`mca` say so outright, the rest are possession or inherence factors.
 * `pwd`, `pin`, `kba`, `user`, `rba`, `geo` and `wia` alone are not a second factor.
 */
export const SECOND_FACTOR_METHODS: ReadonlySet<string> = new Set([
  'mfa',
  'mca',
  'otp',
  'hwk',
  'swk',
  'sms',
  'tel',
  'sc',
  'fido',
  'face',
  'fpt',
  'iris',
  'retina',
  'vbm',
]);

/** The same limits a user created through the API has. */
const MAX_ID = 200;
const MAX_NAME = 200;
const MAX_METHODS = 20;

const isEmail = validatorCompiler([])({
  schema: { type: 'string', format: 'email', minLength: 3, maxLength: 320 },
  httpPart: 'body',
  method: 'POST',
  url: '/',
}) as (value: unknown) => boolean;

const storable = (text: string) => !text.includes('\u0000') && text.isWellFormed();

function booleanClaim(value: unknown): boolean | null {
  // Some providers (Cognito among them) send booleans as strings.
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return null;
}

/** Reads the claims orgstack uses; a malformed `sub` or `email` refuses the token. */
export function readIdentity(claims: JWTPayload): Identity {
  const { sub } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_ID || !storable(sub)) {
    throw new ApiError('invalid_token', `The \`sub\` claim must be a string of 1 to ${MAX_ID} characters.`);
  }
  const email = claims.email ?? null;
  if (email !== null && !(typeof email === 'string' && storable(email) && isEmail(email))) {
    throw new ApiError('invalid_token', 'The `email` claim is not a valid email address.');
  }
  // A name is a courtesy: one that cannot be stored is left out rather than refusing the sign-in.
  const rawName = typeof claims.name === 'string' ? [...claims.name.trim()].slice(0, MAX_NAME).join('') : '';
  const name = rawName && storable(rawName) ? rawName : null;
  const authMethods = Array.isArray(claims.amr)
    ? claims.amr.filter((method): method is string => typeof method === 'string').slice(0, MAX_METHODS)
    : [];
  return {
    subject: sub,
    email: email as string | null,
    emailVerified: booleanClaim(claims.email_verified),
    name,
    authMethods,
    secondFactor: authMethods.some((method) => SECOND_FACTOR_METHODS.has(method)),
  };
}

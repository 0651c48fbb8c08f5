import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { JwtConfig } from '../../config.js';
import { ApiError } from '../../http/errors.js';

/** Public-key algorithms accepted from a JWKS; shared-secret ones never are (key confusion). */
const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const SYMMETRIC = ['HS256'];

/** The identity provider's key set could not be fetched or read: the server's problem, not the caller's. */
export class KeySetUnavailable extends Error {}

/** Turns a compact JWT into its verified claims, or throws the 401 that says why not. */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;

  constructor(config: JwtConfig) {
    this.options = {
      algorithms: config.jwksUrl ? ASYMMETRIC : SYMMETRIC,
      issuer: config.issuers.length > 0 ? config.issuers : undefined,
      audience: config.audience.length > 0 ? config.audience : undefined,
      clockTolerance: config.clockToleranceSeconds,
      // A token without `exp` would be valid forever.
      requiredClaims: ['sub', 'exp'],
    };
    this.key = config.jwksUrl
      ? remoteKeySet(new URL(config.jwksUrl))
      : new TextEncoder().encode(config.secret);
  }

  async verify(token: string): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, this.key, this.options)).payload;
    } catch (error) {
      if (error instanceof errors.JWKSMultipleMatchingKeys) return this.verifyWithEach(token, error);
      throw refusal(error, token);
    }
  }

  /** A key set whose keys carry no `kid`: try each key that fits the algorithm. */
  private async verifyWithEach(token: string, candidates: errors.JWKSMultipleMatchingKeys) {
    for await (const key of candidates) {
      try {
        return (await jwtVerify(token, key, this.options)).payload;
      } catch (error) {
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw refusal(error, token);
      }
    }
    throw refusal(new errors.JWSSignatureVerificationFailed(), token);
  }
}

/** jose's cached remote key set, with fetch failures told apart from tokens no key matches. */
function remoteKeySet(url: URL): JWTVerifyGetKey {
  const keys = createRemoteJWKSet(url);
  const where = `${url.origin}${url.pathname}`;
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new KeySetUnavailable(`cannot use the key set at ${where}: ${reason}`);
    }
  };
}

const claimRefusals: Record<string, (missing: boolean) => ApiError> = {
  nbf: () => new ApiError('token_not_yet_valid', 'The token is not valid yet (`nbf` is in the future).'),
  iss: (missing) =>
    new ApiError(
      'token_issuer_invalid',
      missing
        ? 'The token names no issuer (`iss`).'
        : 'The token was issued by an issuer orgstack does not trust.',
    ),
  aud: (missing) =>
    new ApiError(
      'token_audience_invalid',
      missing ? 'The token names no audience (`aud`).' : 'The token is meant for another audience (`aud`).',
    ),
};

/** The 401 for a token jose refused. Messages never repeat anything from the token. */
function refusal(error: unknown, token: string): Error {
  if (error instanceof KeySetUnavailable) return error;
  if (error instanceof errors.JWTExpired) return new ApiError('token_expired', 'The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const missing = error.reason === 'missing';
    const known = claimRefusals[error.claim];
    if (known) return known(missing);
    if (missing) {
      return new ApiError('invalid_token', `The token has no \`${error.claim}\` claim.`);
    }
    return new ApiError('invalid_token', `The token's \`${error.claim}\` claim is not valid.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return algorithmOf(token) === 'none'
      ? new ApiError('token_unsigned', 'Unsigned tokens (`alg: none`) are never accepted.')
      : new ApiError(
          'token_algorithm_not_allowed',
          'The token is signed with an algorithm not accepted here.',
        );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new ApiError('token_signature_invalid', 'The token signature does not verify.');
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new ApiError('token_signature_invalid', 'No key of the identity provider matches the token.');
  }
  return new ApiError('invalid_token', 'The token is malformed.');
}

function algorithmOf(token: string): unknown {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://idp.test.example';
export const AUDIENCE = 'orgstack-tests';

export interface SigningKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
}

/** A JWKS served over loopback HTTP, as an identity provider serves it, with keys to sign tokens. */
export interface IdentityProvider {
  url: string;
  keys: Record<'RS256' | 'ES256' | 'EdDSA', SigningKey>;
  /** Signed by no key of the set, under the kid of the RS256 key. */
  impostor: SigningKey;
  /** How many times the JWKS was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

async function signingKey(alg: string, kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
  });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { key: { alg, kid, privateKey }, jwk };
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  const [rs, es, ed, other] = await Promise.all([
    signingKey('RS256', 'rs-1'),
    signingKey('ES256', 'es-1'),
    signingKey('EdDSA', 'ed-1'),
    signingKey('RS256', 'rs-1'),
  ]);
  const body = JSON.stringify({ keys: [rs.jwk, es.jwk, ed.jwk] });
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    fetches++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    keys: { RS256: rs.key, ES256: es.key, EdDSA: ed.key },
    impostor: other.key,
    fetches: () => fetches,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface TokenOptions {
  /** Seconds from now; negative for the past. Default one hour; null leaves `exp` out. */
  expiresIn?: number | null;
  notBefore?: number;
  issuer?: string | null;
  audience?: string | string[] | null;
}

const now = () => Math.floor(Date.now() / 1000);

function claimsOf(claims: JWTPayload, options: TokenOptions): JWTPayload {
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  const issuer = options.issuer === undefined ? ISSUER : options.issuer;
  const audience = options.audience === undefined ? AUDIENCE : options.audience;
  return {
    iat: now(),
    ...(expiresIn === null ? {} : { exp: now() + expiresIn }),
    ...(options.notBefore === undefined ? {} : { nbf: now() + options.notBefore }),
    ...(issuer === null ? {} : { iss: issuer }),
    ...(audience === null ? {} : { aud: audience }),
    ...claims,
  };
}

/** A token signed with a key pair of the provider (or any key given). */
export function signWith(key: SigningKey, claims: JWTPayload, options: TokenOptions = {}): Promise<string> {
  return new SignJWT(claimsOf(claims, options))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** A correctly signed token whose payload is whatever text is given (not necessarily JSON). */
export function signRaw(key: SigningKey, payload: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

/** An HS256 token for a shared secret. */
export function signHs256(secret: string, claims: JWTPayload, options: TokenOptions = {}): Promise<string> {
  return new SignJWT(claimsOf(claims, options))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsigned(claims: JWTPayload, options: TokenOptions = {}): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claimsOf(claims, options))}.`;
}

/** A loopback address on which nothing listens. */
export async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

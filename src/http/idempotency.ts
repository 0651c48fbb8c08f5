import { createHash } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyRequest,
  onSendAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from 'fastify';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/client.js';
import { withBeforeCommit } from '../db/commit-hooks.js';
import { isSealed, type Keyring, SecretUnreadable } from '../secrets/keyring.js';
import { ApiError } from './errors.js';
import type { Principal } from './principal.js';

/*
 * `Idempotency-Key` on writes, as Stripe does it: the first answer (status and body) to a key is
 * kept for 24 hours, per caller, and a retry with the same key and the same request gets that
 * answer again instead of a second write. The same key on a different request is 422; a retry
 * while the first is still running is 409. Answers of 500 and above are not kept, so a retry after
 * a server failure runs again.
 *
 * The claim is marked `committed` by the last statement of every transaction the request opens,
 * so it commits with the change or not at all. A claim left `started` by a process that died
 * mid-request therefore changed nothing, and is taken over after STALE_AFTER; one left
 * `committed` (the process died between the commit and keeping the answer) is never run again:
 * a retry is told the write happened and its answer is lost (409).
 */

const HEADER = 'idempotency-key';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEEP_FOR = '24 hours';
const STALE_AFTER = '5 minutes';
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { callerScope: string; key: string } | null;
  }
}

interface StoredAnswer {
  fingerprint: string;
  state: 'started' | 'committed' | 'completed';
  /** The claim is older than STALE_AFTER. */
  stale: boolean;
  status_code: number | null;
  response_body: string | null;
}

/** Keys are per caller: a user's keys share one space, an organization's keys another. */
function callerScope(principal: Principal): string {
  if (principal.kind === 'user') return `user:${principal.userId}`;
  if (principal.kind === 'organization') return `organization:${principal.organizationId}`;
  return 'admin';
}

/**
 * Same method, URL and body (key order aside) means the same request. Bodies may carry secrets
 * (integration tokens), so with a secret key the digest is keyed: a stored fingerprint is no
 * test for guessing them.
 */
function fingerprint(request: FastifyRequest, keyring: Keyring | null): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
      );
    }
    return value;
  };
  const text = `${request.method} ${request.url}\n${JSON.stringify(canonical(request.body ?? null))}`;
  return keyring ? keyring.digest(text, 'idempotency') : createHash('sha256').update(text).digest('hex');
}

function idempotencyKeyOf(request: FastifyRequest): string | null {
  const given = request.headers[HEADER];
  if (given === undefined) return null;
  if (typeof given !== 'string' || !KEY_SHAPE.test(given)) {
    throw new ApiError(
      'invalid_request',
      'Idempotency-Key must be one header of 1 to 255 visible ASCII characters.',
      'Idempotency-Key',
    );
  }
  return given;
}

/** Claims the key for this request; answers whether it was free (new, expired or abandoned). */
async function claim(db: Queryable, callerScope: string, key: string, print: string): Promise<boolean> {
  const rows = await db.query(
    `insert into idempotency_keys (caller_scope, key, fingerprint, state, expires_at)
     values ($1, $2, $3, 'started', now() + interval '${KEEP_FOR}')
     on conflict (caller_scope, key) do update
        set fingerprint = excluded.fingerprint, state = 'started', status_code = null,
            response_body = null, created_at = now(), expires_at = excluded.expires_at
      where idempotency_keys.expires_at < now()
         or (idempotency_keys.state = 'started' and idempotency_keys.created_at < now() - interval '${STALE_AFTER}')
     returning 1`,
    [callerScope, key, print],
  );
  return rows.length > 0;
}

async function findAnswer(
  db: Queryable,
  callerScope: string,
  key: string,
): Promise<StoredAnswer | undefined> {
  const rows = await db.query<StoredAnswer>(
    `select fingerprint, state, status_code, response_body,
            created_at < now() - interval '${STALE_AFTER}' as stale
       from idempotency_keys
      where caller_scope = $1 and key = $2`,
    [callerScope, key],
  );
  return rows[0];
}

async function keepAnswer(db: Queryable, callerScope: string, key: string, status: number, body: string) {
  await db.query(
    `update idempotency_keys set state = 'completed', status_code = $3, response_body = $4
      where caller_scope = $1 and key = $2`,
    [callerScope, key, status, body],
  );
}

/** Frees the key for a retry, unless the write committed: that one must never run twice. */
async function release(db: Queryable, callerScope: string, key: string) {
  await db.query(`delete from idempotency_keys where caller_scope = $1 and key = $2 and state = 'started'`, [
    callerScope,
    key,
  ]);
}

async function markCommitted(tx: Queryable, callerScope: string, key: string) {
  await tx.query(
    `update idempotency_keys set state = 'committed'
      where caller_scope = $1 and key = $2 and state = 'started'`,
    [callerScope, key],
  );
}

/*
 * A kept answer may show a secret once (a new API key, an invitation token, a webhook signing
 * secret), so with a secret key it is sealed, bound to its caller and key: the table holds no
 * secret anyone reading the database could use.
 */
const answerContext = (callerScope: string, key: string) => `idempotency/${callerScope}/${key}`;

function sealAnswer(keyring: Keyring | null, callerScope: string, key: string, body: string): string {
  return keyring && body ? keyring.seal(body, answerContext(callerScope, key)) : body;
}

function openAnswer(keyring: Keyring | null, callerScope: string, key: string, body: string): string {
  if (!isSealed(body)) return body;
  try {
    if (!keyring) throw new SecretUnreadable('no secret key');
    return keyring.open(body, answerContext(callerScope, key));
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw new ApiError(
      'conflict',
      'The first answer to this Idempotency-Key was sealed under a secret key this server lacks; use a new key.',
      'Idempotency-Key',
    );
  }
}

/** Expired answers are swept now and then by the writes themselves; no timer to run or stop. */
async function sweepExpired(db: Queryable) {
  await db.query(
    `delete from idempotency_keys where ctid in
       (select ctid from idempotency_keys where expires_at < now() limit 1000)`,
  );
}

/**
 * Makes every write registered inside `app` after this call honour `Idempotency-Key`. The hooks
 * are attached to write routes only, so reads pay nothing for them.
 */
export function idempotentWrites(app: FastifyInstance, ctx: AppContext) {
  app.decorateRequest('idempotency', null);

  const replayOrClaim: preHandlerAsyncHookHandler = async (request, reply) => {
    const key = idempotencyKeyOf(request);
    if (!key) return;
    const scope = callerScope(request.principal);
    const print = fingerprint(request, ctx.keyring);
    if (Math.random() < 0.01) await sweepExpired(ctx.db);
    if (await claim(ctx.db, scope, key, print)) {
      request.idempotency = { callerScope: scope, key };
      return;
    }
    const stored = await findAnswer(ctx.db, scope, key);
    if (stored && stored.fingerprint !== print) {
      throw new ApiError(
        'idempotency_key_reused',
        'This Idempotency-Key was used for a different request; use a new key.',
        'Idempotency-Key',
      );
    }
    if (stored?.state === 'committed' && stored.stale) {
      throw new ApiError(
        'idempotency_answer_lost',
        'The request with this Idempotency-Key was carried out, but the server stopped before it ' +
          'could keep the answer. Read the resource to see the result; retrying would do it twice.',
        'Idempotency-Key',
      );
    }
    // Expired and swept between the two statements: rare enough to ask for a retry.
    if (stored?.state !== 'completed') {
      throw new ApiError(
        'idempotency_key_in_progress',
        'A request with this Idempotency-Key is still running.',
      );
    }
    const body = stored.response_body && openAnswer(ctx.keyring, scope, key, stored.response_body);
    reply.header('idempotent-replayed', 'true');
    if (body) reply.header('content-type', 'application/json; charset=utf-8');
    return reply.code(stored.status_code!).send(body || undefined);
  };

  const keepTheAnswer: onSendAsyncHookHandler = async (request, reply, payload) => {
    const claimed = request.idempotency;
    if (!claimed) return payload;
    request.idempotency = null;
    try {
      if (reply.statusCode >= 500) await release(ctx.db, claimed.callerScope, claimed.key);
      else
        await keepAnswer(
          ctx.db,
          claimed.callerScope,
          claimed.key,
          reply.statusCode,
          sealAnswer(ctx.keyring, claimed.callerScope, claimed.key, String(payload ?? '')),
        );
    } catch (error) {
      // The write is done (or refused) whatever happens here: the client gets its answer, not the
      // failure to store it. The key stays claimed, so a retry is told the first is still running
      // until the claim goes stale, as when the process dies at this point.
      request.log.error({ err: error, idempotency_key: claimed.key }, 'idempotent answer not stored');
    }
    return payload;
  };

  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.some((method) => WRITES.has(method))) return;
    route.preHandler = [replayOrClaim, ...[route.preHandler ?? []].flat()];
    const handler = route.handler;
    route.handler = function markedCommitted(request, reply) {
      const claimed = request.idempotency;
      if (!claimed) return handler.call(this, request, reply);
      return withBeforeCommit(
        (tx) => markCommitted(tx, claimed.callerScope, claimed.key),
        () => handler.call(this, request, reply),
      );
    };
    route.onSend = [...[route.onSend ?? []].flat(), keepTheAnswer];
    if (!route.schema || route.schema.headers) return;
    // Declared for the OpenAPI document; replayOrClaim checks the value itself.
    route.schema.headers = {
      type: 'object',
      properties: {
        [HEADER]: {
          type: 'string',
          description: 'Makes a retried write safe: the first answer is replayed for 24 hours.',
        },
      },
    };
  });
}

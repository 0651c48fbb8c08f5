import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { compatTags, registerCompatRouters } from './compat/index.js';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import type { Database } from './db/client.js';
import { requireCredential } from './http/auth.js';
import { acceptOnlyJson } from './http/content-type.js';
import { registerErrorHandling, sendError } from './http/error-handler.js';
import { ApiError } from './http/errors.js';
import { idempotentWrites } from './http/idempotency.js';
import { serveMetrics } from './http/metrics.js';
import { liftParameterStyles } from './http/openapi.js';
import { sendEntityTags } from './http/preconditions.js';
import { protect } from './http/protection.js';
import { ErrorEnvelope } from './http/schemas.js';
import { sharedSerializers } from './http/serialization.js';
import { refuseUnknownQueryParameters, refuseUnstorableText, validatorCompiler } from './http/validation.js';
import { Credentials } from './modules/api-keys/credentials.js';
import { followCredentialChanges } from './modules/api-keys/revocations.js';
import { apiKeyRoutes } from './modules/api-keys/routes.js';
import { ApiKey, CreatedApiKey } from './modules/api-keys/schemas.js';
import { auditEventRoutes } from './modules/audit-events/routes.js';
import { AuditEvent } from './modules/audit-events/schemas.js';
import { budgetRoutes } from './modules/budgets/routes.js';
import { deploymentRoutes } from './modules/deployments/routes.js';
import { Deployment } from './modules/deployments/schemas.js';
import { integrationRoutes } from './modules/integrations/routes.js';
import { Integration } from './modules/integrations/schemas.js';
import { licenseRoutes } from './modules/licenses/routes.js';
import { Entitlements, License, OrganizationLicense } from './modules/licenses/schemas.js';
import { projectRoutes } from './modules/projects/routes.js';
import { Project } from './modules/projects/schemas.js';
import { roleRoutes } from './modules/roles/routes.js';
import { Role } from './modules/roles/schemas.js';
import { usageRoutes } from './modules/usage/routes.js';
import { webhookRoutes } from './modules/webhooks/routes.js';
import { CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint } from './modules/webhooks/schemas.js';
import { TargetPolicy } from './modules/webhooks/targets.js';
import { WebhookWorker } from './modules/webhooks/worker.js';
import type { Keyring } from './secrets/keyring.js';
import { keyringFromConfig } from './secrets/setup.js';

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookWorker;
  }
}

import { docsRoutes } from './modules/docs/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { invitationRoutes } from './modules/invitations/routes.js';
import { CreatedInvitation, Invitation } from './modules/invitations/schemas.js';
import { inviteLinkRoutes } from './modules/invite-links/routes.js';
import { CreatedInviteLink, InviteLink } from './modules/invite-links/schemas.js';
import type { JwtCallers } from './modules/jwt/callers.js';
import { meRoutes } from './modules/me/routes.js';
import { RenderedMembers } from './modules/members/rendered.js';
import { memberRoutes } from './modules/members/routes.js';
import { Member } from './modules/members/schemas.js';
import { membershipRoutes } from './modules/memberships/routes.js';
import { UserMembership } from './modules/memberships/schemas.js';
import { RenderedOrganizations } from './modules/organizations/rendered.js';
import { organizationRoutes } from './modules/organizations/routes.js';
import { Organization, OrganizationSettings } from './modules/organizations/schemas.js';
import { userRoutes } from './modules/users/routes.js';
import { User } from './modules/users/schemas.js';

export interface BuildOptions {
  config: Config;
  db: Database;
  logger?: FastifyServerOptions['logger'];
  /** Seals secrets at rest; when absent, the one `ORGSTACK_SECRET_KEY` describes (src/secrets/setup.ts). */
  keyring?: Keyring | null;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    // Credentials never reach the log, whatever the level.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.secret', '*.key', '*.token'],
      censor: '[redacted]',
    },
  };
}

/** Loaded only when configured: a server without JWT callers never loads jose. */
async function jwtCallers(db: Database, config: Config, log: FastifyBaseLogger): Promise<JwtCallers | null> {
  if (!config.jwt) return null;
  const [{ JwtCallers }, { TokenVerifier }] = await Promise.all([
    import('./modules/jwt/callers.js'),
    import('./modules/jwt/verifier.js'),
  ]);
  return new JwtCallers(db, new TokenVerifier(config.jwt), config.authCacheTtlMs, (error) =>
    log.warn({ reason: error.message }, 'JWT key set unavailable'),
  );
}

/** Builds the whole server as one Fastify instance: tests call this and use `inject`. */
export async function buildApp({ config, db, logger, keyring }: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? false,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutMs,
    trustProxy: config.http.trustProxy,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
    schemaController: { compilersFactory: { buildSerializer: sharedSerializers() } },
    // Errors raised while routing, before any hook runs: answered in the envelope like the rest.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      const apiError =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new ApiError('uri_too_long', 'A path segment is longer than anything it could name.')
          : new ApiError('invalid_request', 'The URL is malformed.');
      sendError(reply, request, apiError);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const credentials = new Credentials(db, config.authCacheTtlMs, (error) =>
    app.log.warn({ err: error }, 'last-used update failed'),
  );
  const jwt = await jwtCallers(db, config, app.log);
  const ctx: AppContext = {
    db,
    config,
    credentials,
    jwt,
    webhookTargets: new TargetPolicy(config.webhooks.allowedNetworks),
    keyring: keyring === undefined ? keyringFromConfig(config) : keyring,
    renderedOrganizations: new RenderedOrganizations(),
    renderedMembers: new RenderedMembers(),
  };
  const webhooks = new WebhookWorker(db, config.webhooks, ctx.webhookTargets, app.log, ctx.keyring);
  app.decorate('webhooks', webhooks);
  app.addHook('onReady', async () => webhooks.start());
  // Stops polling and waits for sends in flight before the database closes.
  app.addHook('onClose', async () => webhooks.stop());
  app.addHook('onClose', () => credentials.close());
  // Revocations made on other instances reach this one's caches as they commit.
  let stopFollowing: (() => Promise<void>) | undefined;
  app.addHook('onReady', async () => {
    stopFollowing = await followCredentialChanges(db, ctx);
  });
  app.addHook('onClose', async () => stopFollowing?.());
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  registerErrorHandling(app);
  const limiters = await protect(app, config.http, config.redisUrl);
  serveMetrics(app, ctx);
  acceptOnlyJson(app);
  refuseUnknownQueryParameters(app, (url) => url.startsWith('/v1/'));
  refuseUnstorableText(app);
  const sharedSchemas = [
    ErrorEnvelope,
    OrganizationSettings,
    Organization,
    User,
    Member,
    UserMembership,
    ApiKey,
    CreatedApiKey,
    AuditEvent,
    WebhookEndpoint,
    CreatedWebhookEndpoint,
    WebhookDelivery,
    Project,
    License,
    OrganizationLicense,
    Entitlements,
    Deployment,
    Integration,
    Invitation,
    CreatedInvitation,
    InviteLink,
    CreatedInviteLink,
    Role,
  ];
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.setValidatorCompiler(validatorCompiler(sharedSchemas));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'orgstack',
        version: '0.1.0',
        description: 'Organizations, teams, users, memberships and API keys for multi-tenant software.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      tags: compatTags(config.compat),
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) || `def-${i}`,
    },
    transformObject: (document) =>
      liftParameterStyles('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  await app.register(docsRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes(ctx));
  // Everything below needs a credential: the native API and the compatibility routers alike.
  await app.register(async (api) => {
    requireCredential(api, ctx);
    if (limiters.perKey) api.addHook('onRequest', limiters.perKey);
    idempotentWrites(api, ctx);
    sendEntityTags(api);
    await api.register(nativeRoutes(ctx), { prefix: '/v1' });
    await registerCompatRouters(api, ctx);
  });
  return app;
}

/** The native API, mounted under `/v1`. */
function nativeRoutes(ctx: AppContext) {
  return async (v1: FastifyInstance) => {
    await v1.register(meRoutes(ctx));
    await v1.register(userRoutes(ctx));
    await v1.register(organizationRoutes(ctx));
    await v1.register(memberRoutes(ctx));
    await v1.register(membershipRoutes(ctx));
    await v1.register(apiKeyRoutes(ctx));
    await v1.register(auditEventRoutes(ctx));
    await v1.register(webhookRoutes(ctx));
    await v1.register(projectRoutes(ctx));
    await v1.register(licenseRoutes(ctx));
    await v1.register(deploymentRoutes(ctx));
    await v1.register(integrationRoutes(ctx));
    await v1.register(usageRoutes(ctx));
    await v1.register(budgetRoutes(ctx));
    await v1.register(invitationRoutes(ctx));
    await v1.register(inviteLinkRoutes(ctx));
    await v1.register(roleRoutes(ctx));
  };
}

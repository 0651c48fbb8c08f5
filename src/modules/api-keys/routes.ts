import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { errors, OrganizationRef, Uuid } from '../../http/schemas.js';
import {
  CreateApiKeyBody,
  CreateOrganizationKeyBody,
  ListApiKeysQuery,
  ListOrganizationKeysQuery,
} from './schemas.js';
import * as service from './service.js';

const tags = ['api-keys'];
const KeyRef = Type.Ref('ApiKey');
const CreatedRef = Type.Ref('CreatedApiKey');

export function apiKeyRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api-keys', {
      schema: {
        tags,
        summary: 'List personal keys of the caller (admin keys: any keys)',
        querystring: ListApiKeysQuery,
        response: { 200: Page(KeyRef), ...errors(400, 401, 403) },
      },
      handler: (request) => service.listKeys(ctx, request.principal, request.query),
    });

    app.post('/api-keys', {
      schema: {
        tags,
        summary: 'Create a personal key (admin keys: for a user, or another admin key)',
        description: 'The secret is in this response only.',
        body: CreateApiKeyBody,
        response: { 201: CreatedRef, ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createApiKey(ctx, request.principal, request.body);
      },
    });

    app.delete('/api-keys/:key_id', {
      schema: {
        tags,
        summary: 'Revoke a key; it stops working at once',
        params: Type.Object({ key_id: Uuid() }),
        response: { 200: KeyRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.revokeKey(ctx, request.principal, request.params.key_id),
    });

    app.get('/organizations/:org/api-keys', {
      schema: {
        tags,
        summary: 'List the organization keys of an organization',
        params: Type.Object({ org: OrganizationRef }),
        querystring: ListOrganizationKeysQuery,
        response: { 200: Page(KeyRef), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listOrganizationKeys(ctx, request.principal, request.params.org, request.query),
    });

    app.post('/organizations/:org/api-keys', {
      schema: {
        tags,
        summary: 'Create an organization key, acting inside that organization and its teams',
        params: Type.Object({ org: OrganizationRef }),
        body: CreateOrganizationKeyBody,
        response: { 201: CreatedRef, ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createOrganizationKey(ctx, request.principal, request.params.org, request.body);
      },
    });
  };
}

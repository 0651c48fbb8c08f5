import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { parseMetadataFilters } from '../../http/metadata.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import { sendJson } from '../../http/serialization.js';
import { ListOrganizationsQuery } from '../organizations/schemas.js';
import { listOrganizationsJson } from '../organizations/service.js';
import { CreateUserBody, ListUsersQuery, UpdateUserBody, UserParams } from './schemas.js';
import * as service from './service.js';

const tags = ['users'];
const UserRef = Type.Ref('User');

export function userRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/users', {
      schema: {
        tags,
        summary: 'Create a user (admin keys)',
        body: CreateUserBody,
        response: { 201: UserRef, ...errors(400, 401, 403, 409) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createUser(ctx, request.principal, request.body);
      },
    });

    app.get('/users', {
      schema: {
        tags,
        summary: 'List users the caller can see',
        querystring: ListUsersQuery,
        response: { 200: Page(UserRef), ...errors(400, 401, 403) },
      },
      handler: (request) => service.listUsers(ctx, request.principal, request.query),
    });

    app.get('/users/:user_id', {
      schema: {
        tags,
        summary: 'Get a user',
        params: UserParams,
        response: { 200: UserRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.getUser(ctx, request.principal, request.params.user_id),
    });

    app.patch('/users/:user_id', {
      schema: {
        tags,
        summary: 'Update a user',
        params: UserParams,
        body: UpdateUserBody,
        response: { 200: UserRef, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.updateUser(ctx, request.principal, request.params.user_id, request.body, ifMatchOf(request)),
    });

    app.delete('/users/:user_id', {
      schema: {
        tags,
        summary: 'Delete a user (soft): memberships removed, keys revoked',
        params: UserParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: async (request, reply) => {
        await service.deleteUser(ctx, request.principal, request.params.user_id, ifMatchOf(request));
        return reply.code(204).send(null);
      },
    });

    app.get('/users/:user_id/organizations', {
      schema: {
        tags,
        summary: 'Organizations a user belongs to (and their teams, unless no_children)',
        params: UserParams,
        querystring: ListOrganizationsQuery,
        response: { 200: Page(Type.Ref('Organization')), ...errors(400, 401, 403, 404) },
      },
      preValidation: parseMetadataFilters,
      handler: async (request, reply) => {
        await service.getUser(ctx, request.principal, request.params.user_id);
        return sendJson(
          reply,
          await listOrganizationsJson(ctx, request.principal, request.query, request.params.user_id),
        );
      },
    });
  };
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as organizations from '../../modules/organizations/service.js';
import type { CompatRouter } from '../index.js';
import {
  AdminOrganization,
  AdminOrganizationPage,
  CreateBody,
  ListQuery,
  SlugParams,
  UpdateBody,
} from './schemas.js';

const tag = 'compat 001';
const tags = [tag];

async function register(app: FastifyInstance, ctx: AppContext) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/organizations', {
    schema: {
      tags,
      summary: 'List all organizations',
      description:
        'Top-level organizations (tenants, not their teams) the caller belongs to; every one for an instance admin key.',
      querystring: ListQuery,
      response: { 200: AdminOrganizationPage, ...errors(400, 401, 403) },
    },
    handler: (request) =>
      organizations.listOrganizations(ctx, request.principal, {
        ...request.query,
        // Tenants are the top of the tree; teams belong to seed 000's API and to /v1.
        top_level_only: true,
        no_children: true,
        active_only: false,
      }),
  });

  api.post('/organizations', {
    schema: {
      tags,
      summary: 'Create an organization',
      description: 'A user creating an organization becomes its owner.',
      body: CreateBody,
      response: { 201: AdminOrganization, ...errors(400, 401, 402, 403, 404, 409, 422) },
    },
    handler: async (request, reply) => {
      reply.code(201);
      return organizations.createOrganization(ctx, request.principal, request.body);
    },
  });

  api.get('/organizations/:slug', {
    schema: {
      tags,
      summary: 'Get an organization by slug',
      params: SlugParams,
      response: { 200: AdminOrganization, ...errors(400, 401, 403, 404) },
    },
    handler: (request) => organizations.getOrganization(ctx, request.principal, request.params.slug),
  });

  api.patch('/organizations/:slug', {
    schema: {
      tags,
      summary: 'Update an organization',
      params: SlugParams,
      body: UpdateBody,
      response: { 200: AdminOrganization, ...errors(400, 401, 403, 404, 409, 412) },
    },
    handler: (request) =>
      organizations.updateOrganization(
        ctx,
        request.principal,
        request.params.slug,
        request.body,
        ifMatchOf(request),
      ),
  });

  api.delete('/organizations/:slug', {
    schema: {
      tags,
      summary: 'Delete an organization (soft: listed again with include_deleted=true)',
      params: SlugParams,
      response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
    },
    handler: async (request, reply) => {
      await organizations.deleteOrganization(ctx, request.principal, request.params.slug, ifMatchOf(request));
      return reply.code(204).send(null);
    },
  });
}

/** An admin API over top-level organizations addressed by slug, with keyset pagination. */
export const seed001: CompatRouter = {
  id: '001',
  prefix: '/admin/v1',
  tag: {
    name: tag,
    description:
      'Admin API over top-level organizations (tenants) addressed by slug: keyset pagination with `cursor` and `direction`, soft deletes. See docs/compat.md.',
  },
  register,
};

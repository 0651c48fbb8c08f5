import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { errors } from '../../http/schemas.js';
import type { Organization } from '../../modules/organizations/schemas.js';
import * as organizations from '../../modules/organizations/service.js';
import { Page, PageQuery, pageOf } from './pages.js';
import { organizationInput, presentOrganization } from './present.js';
import { organizationRef } from './refs.js';
import {
  CreateOrganizationBody,
  OrganizationParams,
  PostHogOrganization,
  UpdateOrganizationBody,
} from './schemas.js';

/** The organizations with the caller's standing in each, read in one statement. */
async function present(ctx: AppContext, principal: Principal, orgs: Organization[]) {
  const standings = await organizations.standingsOf(
    ctx,
    principal,
    orgs.map((org) => org.id),
  );
  return orgs.map((org) => presentOrganization(org, principal, standings.get(org.id)));
}

const presentOne = async (ctx: AppContext, principal: Principal, org: Organization) =>
  (await present(ctx, principal, [org]))[0]!;

export function organizationRoutes(tags: string[]) {
  return async (app: FastifyInstance, ctx: AppContext) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.get('/organizations', {
      schema: {
        tags,
        summary: 'List organizations',
        description:
          'Organizations the calling user is a member of; every top-level one for an instance admin key, its own for an organization key. Needs `organization:read`.',
        querystring: PageQuery,
        response: { 200: Page(PostHogOrganization), ...errors(400, 401, 403) },
      },
      handler: async (request) => {
        // A PostHog user belongs to organizations directly: their teams are not listed with them.
        const filter = { no_children: true, active_only: false, include_deleted: false };
        const [page, count] = await Promise.all([
          organizations.listOrganizations(ctx, request.principal, {
            ...filter,
            ...request.query,
            direction: 'forward',
          }),
          organizations.countOrganizations(ctx, request.principal, filter),
        ]);
        const results = await present(ctx, request.principal, page.data);
        return pageOf(request, request.query, results, page.pagination.has_more, count);
      },
    });

    api.post('/organizations', {
      schema: {
        tags,
        summary: 'Create an organization',
        description: 'The calling user becomes its owner. Needs `organization:write`.',
        body: CreateOrganizationBody,
        response: { 201: PostHogOrganization, ...errors(400, 401, 402, 403, 404, 409, 422) },
      },
      handler: async (request, reply) => {
        const input = organizationInput(request.body);
        const org = await organizations.createOrganization(ctx, request.principal, {
          ...input,
          name: request.body.name,
        });
        reply.code(201);
        return presentOne(ctx, request.principal, org);
      },
    });

    api.get('/organizations/:id', {
      schema: {
        tags,
        summary: 'Retrieve an organization',
        description: 'Needs `organization:read`.',
        params: OrganizationParams,
        response: { 200: PostHogOrganization, ...errors(400, 401, 403, 404) },
      },
      handler: async (request) => {
        const ref = organizationRef(request.principal, request.params.id, 'id');
        const org = await organizations.getOrganization(ctx, request.principal, ref);
        return presentOne(ctx, request.principal, org);
      },
    });

    api.patch('/organizations/:id', {
      schema: {
        tags,
        summary: 'Update an organization partially',
        description: 'Needs `organization:write` and the admin role.',
        params: OrganizationParams,
        body: UpdateOrganizationBody,
        response: { 200: PostHogOrganization, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: async (request) => {
        const ref = organizationRef(request.principal, request.params.id, 'id');
        const org = await organizations.updateOrganization(
          ctx,
          request.principal,
          ref,
          organizationInput(request.body),
          ifMatchOf(request),
        );
        return presentOne(ctx, request.principal, org);
      },
    });

    api.delete('/organizations/:id', {
      schema: {
        tags,
        summary: 'Delete an organization',
        description: 'Soft: orgstack can restore it. Needs `organization:write` and the owner role.',
        params: OrganizationParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        const ref = organizationRef(request.principal, request.params.id, 'id');
        await organizations.deleteOrganization(ctx, request.principal, ref, ifMatchOf(request));
        return reply.code(204).send(null);
      },
    });
  };
}

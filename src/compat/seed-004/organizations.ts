import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as organizations from '../../modules/organizations/service.js';
import { inOrgIdTerms } from './errors.js';
import { itemsOf, ListQuery, pageOf } from './lists.js';
import {
  CreateOrganizationBody,
  DeletedOrganization,
  Organization,
  OrganizationParams,
  UpdateOrganizationBody,
} from './schemas.js';

const ListOrganizationsQuery = Type.Object(
  {
    active_only: Type.Boolean({ default: false, description: 'Only organizations marked active.' }),
    ...ListQuery,
  },
  { additionalProperties: false },
);

/** Null means unchanged in this product, as absent does: only the values given are passed on. */
function changesOf(body: UpdateOrganizationBody) {
  return Object.fromEntries(
    Object.entries(body).filter(([, value]) => value !== null && value !== undefined),
  );
}

export async function organizationRoutes(app: FastifyInstance, ctx: AppContext, tags: string[]) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/organizations', {
    schema: {
      tags,
      summary: 'List Orgs',
      description:
        'Organizations the caller belongs to, with their teams (admin keys: all; organization keys: their own subtree), oldest first.',
      querystring: ListOrganizationsQuery,
      response: { 200: Type.Array(Organization), ...errors(400, 401, 403) },
    },
    handler: async (request, reply) => {
      const { active_only, ...list } = request.query;
      const page = await organizations.listOrganizations(ctx, request.principal, {
        ...pageOf(list),
        active_only,
        no_children: false,
        include_deleted: false,
      });
      return itemsOf(request, reply, list, page);
    },
  });

  api.post('/organizations', {
    schema: {
      tags,
      summary: 'Create Org',
      description: 'The calling user becomes its owner, the top role (the product calls it admin).',
      body: CreateOrganizationBody,
      response: { 200: Organization, ...errors(400, 401, 402, 403, 409) },
    },
    handler: (request) => organizations.createOrganization(ctx, request.principal, request.body),
  });

  api.get('/organizations/:org_id', {
    schema: {
      tags,
      summary: 'Get Org',
      params: OrganizationParams,
      response: { 200: Organization, ...errors(400, 401, 403, 404) },
    },
    handler: (request) =>
      inOrgIdTerms(organizations.getOrganization(ctx, request.principal, request.params.org_id)),
  });

  api.put('/organizations/:org_id', {
    schema: {
      tags,
      summary: 'Update Org',
      description: 'Each field null or absent stays as it is. Needs the admin role.',
      params: OrganizationParams,
      body: UpdateOrganizationBody,
      response: { 200: Organization, ...errors(400, 401, 403, 404, 409, 412) },
    },
    handler: (request) =>
      inOrgIdTerms(
        organizations.updateOrganization(
          ctx,
          request.principal,
          request.params.org_id,
          changesOf(request.body),
          ifMatchOf(request),
        ),
      ),
  });

  api.delete('/organizations/:org_id', {
    schema: {
      tags,
      summary: 'Delete Org',
      description: 'Soft delete of the organization and its teams (owners only); `/v1` can restore it.',
      params: OrganizationParams,
      response: { 200: DeletedOrganization, ...errors(400, 401, 403, 404, 412) },
    },
    handler: async (request) => {
      const { org_id } = request.params;
      await inOrgIdTerms(
        organizations.deleteOrganization(ctx, request.principal, org_id, ifMatchOf(request)),
      );
      return { id: org_id.toLowerCase(), deleted: true };
    },
  });
}

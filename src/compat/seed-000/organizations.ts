import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import type { PageResult } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as organizations from '../../modules/organizations/service.js';
import * as usage from '../../modules/usage/service.js';
import {
  CreateOrganizationInput,
  ListOrganizationsQuery,
  Organization,
  OrganizationList,
  OrgParams,
  StorageCostQuery,
  StorageCostSummary,
  StorageTypeParams,
  UpdateOrganizationInput,
} from './schemas.js';

/** The seed's list shape: offset pagination, with `has_more` telling whether to ask again. */
export function offsetPage<T>(page: PageResult<T>, offset: number) {
  return {
    organizations: page.data,
    limit: page.pagination.limit,
    offset,
    has_more: page.pagination.has_more,
  };
}

/** Native list input for an offset page: never a cursor, never deleted or inactive filtering. */
export const offsetInput = (limit: number, offset: number) => ({
  limit,
  offset,
  direction: 'forward' as const,
  include_deleted: false,
});

export function organizationRoutes(ctx: AppContext, tags: string[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations', {
      schema: {
        tags,
        summary: 'List organizations for user',
        description:
          'Organizations the caller belongs to and, unless `no_children`, their child organizations. ' +
          'Admin keys see every organization.',
        querystring: ListOrganizationsQuery,
        response: { 200: OrganizationList, ...errors(400, 401, 403) },
      },
      handler: async (request) => {
        const { limit, offset, ...filters } = request.query;
        const page = await organizations.listOrganizations(ctx, request.principal, {
          ...offsetInput(limit, offset),
          ...filters,
          active_only: false,
        });
        return offsetPage(page, offset);
      },
    });

    app.post('/organizations', {
      schema: {
        tags,
        summary: 'Create organization',
        description: 'A user creating an organization becomes its owner.',
        body: CreateOrganizationInput,
        response: { 201: Organization, ...errors(400, 401, 402, 403, 404, 409, 422) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return organizations.createOrganization(ctx, request.principal, request.body);
      },
    });

    app.patch('/organizations/:organization_id', {
      schema: {
        tags,
        summary: 'Update organization',
        params: OrgParams,
        body: UpdateOrganizationInput,
        response: { 200: Organization, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        organizations.updateOrganization(
          ctx,
          request.principal,
          request.params.organization_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.get('/organizations/:organization_id/costs/storage-types/:storage_type', {
      schema: {
        tags,
        summary: 'Get storage type cost summary by type',
        description:
          'Aggregated cost and usage of one storage type between `start` (default 6 hours before ' +
          '`end`) and `end` (default now), read from hourly rollups: `start_at` and `end_at` name ' +
          'the whole hours counted.',
        params: StorageTypeParams,
        querystring: StorageCostQuery,
        response: { 200: StorageCostSummary, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        usage.storageTypeSummary(
          ctx,
          request.principal,
          request.params.organization_id,
          request.params.storage_type,
          { ...request.query, include_children: false },
        ),
    });
  };
}

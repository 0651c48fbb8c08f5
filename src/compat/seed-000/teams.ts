import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as children from '../../modules/organizations/children.js';
import { offsetInput, offsetPage } from './organizations.js';
import {
  ChildParams,
  CreateOrganizationInput,
  ListChildrenQuery,
  Organization,
  OrganizationList,
  OrgParams,
  UpdateChildInput,
} from './schemas.js';

/** Child organizations, which the seed's product shows as teams. */
export function teamRoutes(ctx: AppContext, tags: string[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations/:organization_id/children', {
      schema: {
        tags,
        summary: 'List child organizations (teams)',
        params: OrgParams,
        querystring: ListChildrenQuery,
        response: { 200: OrganizationList, ...errors(400, 401, 403, 404) },
      },
      handler: async (request) => {
        const { limit, offset, name_search } = request.query;
        const page = await children.listChildren(ctx, request.principal, request.params.organization_id, {
          ...offsetInput(limit, offset),
          name_search,
        });
        return offsetPage(page, offset);
      },
    });

    app.post('/organizations/:organization_id/children', {
      schema: {
        tags,
        summary: 'Create child organization (team)',
        params: OrgParams,
        body: CreateOrganizationInput,
        response: { 201: Organization, ...errors(400, 401, 402, 403, 404, 409, 422) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return children.createChild(ctx, request.principal, request.params.organization_id, request.body);
      },
    });

    app.patch('/organizations/:organization_id/children/:child_organization_id', {
      schema: {
        tags,
        summary: 'Update child organization (team)',
        params: ChildParams,
        body: UpdateChildInput,
        response: { 200: Organization, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        children.updateChild(
          ctx,
          request.principal,
          request.params.organization_id,
          request.params.child_organization_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/organizations/:organization_id/children/:child_organization_id', {
      schema: {
        tags,
        summary: 'Delete child organization (team)',
        description:
          'Soft delete of the team and its own teams; `POST /v1/organizations/{id}/restore` undoes it.',
        params: ChildParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await children.deleteChild(
          ctx,
          request.principal,
          request.params.organization_id,
          request.params.child_organization_id,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });
  };
}

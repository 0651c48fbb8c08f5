import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as integrations from '../../modules/integrations/service.js';
import { Page, PageQuery, pageOf } from './pages.js';
import { presentIntegration } from './present.js';
import { organizationRef } from './refs.js';
import {
  EnvironmentMappingBody,
  IntegrationParams,
  IntegrationsParams,
  PostHogIntegration,
} from './schemas.js';

const path = '/organizations/:organization_id/integrations';
const one = `${path}/:id`;

export function integrationRoutes(tags: string[]) {
  return async (app: FastifyInstance, ctx: AppContext) => {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.get(path, {
      schema: {
        tags,
        summary: "List an organization's integrations",
        description: 'Connected ones only. Needs `organization_integration:read`.',
        params: IntegrationsParams,
        querystring: PageQuery,
        response: { 200: Page(PostHogIntegration), ...errors(400, 401, 403, 404) },
      },
      handler: async (request) => {
        const ref = organizationRef(request.principal, request.params.organization_id, 'organization_id');
        const filter = { include_deleted: false };
        const [page, count] = await Promise.all([
          integrations.listIntegrations(ctx, request.principal, ref, {
            ...filter,
            ...request.query,
            direction: 'forward',
          }),
          integrations.countIntegrations(ctx, request.principal, ref, filter),
        ]);
        return pageOf(
          request,
          request.query,
          page.data.map(presentIntegration),
          page.pagination.has_more,
          count,
        );
      },
    });

    api.get(one, {
      schema: {
        tags,
        summary: 'Retrieve an integration',
        description: 'Needs `organization_integration:read`.',
        params: IntegrationParams,
        response: { 200: PostHogIntegration, ...errors(400, 401, 403, 404) },
      },
      handler: async (request) => {
        const ref = organizationRef(request.principal, request.params.organization_id, 'organization_id');
        return presentIntegration(
          await integrations.getIntegration(ctx, request.principal, ref, request.params.id, false),
        );
      },
    });

    api.delete(one, {
      schema: {
        tags,
        summary: 'Disconnect an integration',
        description: 'Its secrets are erased. Needs `organization_integration:write` and the admin role.',
        params: IntegrationParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        const ref = organizationRef(request.principal, request.params.organization_id, 'organization_id');
        await integrations.disconnect(ctx, request.principal, ref, request.params.id, ifMatchOf(request));
        return reply.code(204).send(null);
      },
    });

    api.patch(`${one}/environment-mapping`, {
      schema: {
        tags,
        summary: "Update an integration's environment mapping",
        description:
          'Maps production, preview and development to projects of the organization; preview and development default to the production project. Other environments stay mapped. Needs `organization_integration:write` and the admin role.',
        params: IntegrationParams,
        body: EnvironmentMappingBody,
        response: { 200: PostHogIntegration, ...errors(400, 401, 403, 404, 412, 422) },
      },
      handler: async (request) => {
        const ref = organizationRef(request.principal, request.params.organization_id, 'organization_id');
        const { production, preview = production, development = production } = request.body;
        const updated = await integrations.updateEnvironmentMapping(
          ctx,
          request.principal,
          ref,
          request.params.id,
          { environment_mapping: { production, preview, development } },
          ifMatchOf(request),
        );
        return presentIntegration(updated);
      },
    });
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, OrganizationRef, Uuid } from '../../http/schemas.js';
import {
  CreateIntegrationBody,
  EnvironmentMappingBody,
  IntegrationQuery,
  ListIntegrationsQuery,
  UpdateIntegrationBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['integrations'];
const OrgParams = Type.Object({ org: OrganizationRef });
const IntegrationParams = Type.Object({ org: OrganizationRef, integration_id: Uuid('Integration id.') });
const IntegrationOut = Type.Ref('Integration');
const path = '/organizations/:org/integrations';
const one = `${path}/:integration_id`;

export function integrationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(path, {
      schema: {
        tags,
        summary: "List an organization's integrations",
        description: 'Needs `organization_integration:read` and the viewer role.',
        params: OrgParams,
        querystring: ListIntegrationsQuery,
        response: { 200: Page(IntegrationOut), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listIntegrations(ctx, request.principal, request.params.org, request.query),
    });

    app.post(path, {
      schema: {
        tags,
        summary: 'Connect an integration (admins)',
        description:
          'What an installation flow calls once the user approved it. `secrets` are encrypted at rest and never returned; answers list their names in `secret_fields`.',
        params: OrgParams,
        body: CreateIntegrationBody,
        response: { 201: IntegrationOut, ...errors(400, 401, 403, 404, 409, 422, 503) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createIntegration(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.get(one, {
      schema: {
        tags,
        summary: 'Get an integration',
        params: IntegrationParams,
        querystring: IntegrationQuery,
        response: { 200: IntegrationOut, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getIntegration(
          ctx,
          request.principal,
          request.params.org,
          request.params.integration_id,
          request.query.include_deleted,
        ),
    });

    app.patch(one, {
      schema: {
        tags,
        summary: 'Update an integration: display name, config, secrets (admins)',
        params: IntegrationParams,
        body: UpdateIntegrationBody,
        response: { 200: IntegrationOut, ...errors(400, 401, 403, 404, 412, 503) },
      },
      handler: (request) =>
        service.updateIntegration(
          ctx,
          request.principal,
          request.params.org,
          request.params.integration_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete(one, {
      schema: {
        tags,
        summary: 'Disconnect an integration (admins)',
        description:
          'The integration stays listed with `include_deleted=true`, for the record; its secrets are erased.',
        params: IntegrationParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await service.disconnect(
          ctx,
          request.principal,
          request.params.org,
          request.params.integration_id,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });

    app.patch(`${one}/environment-mapping`, {
      schema: {
        tags,
        summary: "Update an integration's environment mapping (admins)",
        description:
          'Merged into the stored mapping: an environment given a project (id or slug of this organization) is set, one given null is removed, the others stay.',
        params: IntegrationParams,
        body: EnvironmentMappingBody,
        response: { 200: IntegrationOut, ...errors(400, 401, 403, 404, 412, 422) },
      },
      handler: (request) =>
        service.updateEnvironmentMapping(
          ctx,
          request.principal,
          request.params.org,
          request.params.integration_id,
          request.body,
          ifMatchOf(request),
        ),
    });
  };
}

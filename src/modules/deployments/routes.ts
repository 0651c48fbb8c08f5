import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import { LicenseParams } from '../licenses/schemas.js';
import { DeploymentParams, ListDeploymentsQuery, ReportDeploymentBody } from './schemas.js';
import * as service from './service.js';

const tags = ['deployments'];
const DeploymentOut = Type.Ref('Deployment');

export function deploymentRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/licenses/:license_id/deployments', {
      schema: {
        tags,
        summary: 'Register an installation, or record its heartbeat',
        description:
          'The first report of a name under the license registers it (201); later ones update its version, ' +
          'hostname and `last_seen_at` (200). Admin keys, and organization keys of the organization holding the license.',
        params: LicenseParams,
        body: ReportDeploymentBody,
        response: { 200: DeploymentOut, 201: DeploymentOut, ...errors(400, 401, 403, 404, 409) },
      },
      handler: async (request, reply) => {
        const { created, deployment } = await service.reportDeployment(
          ctx,
          request.principal,
          request.params.license_id,
          request.body,
        );
        reply.code(created ? 201 : 200);
        return deployment;
      },
    });

    app.get('/licenses/:license_id/deployments', {
      schema: {
        tags,
        summary: 'List the deployments of a license, whoever held it (admin keys)',
        params: LicenseParams,
        querystring: ListDeploymentsQuery,
        response: { 200: Page(DeploymentOut), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listLicenseDeployments(ctx, request.principal, request.params.license_id, request.query),
    });

    app.delete('/licenses/:license_id/deployments/:deployment_id', {
      schema: {
        tags,
        summary: 'Delete a deployment that is gone (soft; admin keys)',
        params: DeploymentParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await service.deleteDeployment(
          ctx,
          request.principal,
          request.params.license_id,
          request.params.deployment_id,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });

    app.get('/organizations/:org/deployments', {
      schema: {
        tags,
        summary: "List the deployments running under the organization's license",
        params: Type.Object({ org: OrganizationRef }),
        querystring: ListDeploymentsQuery,
        response: { 200: Page(DeploymentOut), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listOrganizationDeployments(ctx, request.principal, request.params.org, request.query),
    });
  };
}

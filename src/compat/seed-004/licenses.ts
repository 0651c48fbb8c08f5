import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { errors } from '../../http/schemas.js';
import { listOrganizationDeployments } from '../../modules/deployments/service.js';
import * as licenses from '../../modules/licenses/assignment.js';
import { inOrgIdTerms } from './errors.js';
import { itemsOf, ListQuery, pageOf } from './lists.js';
import { AssignLicenseBody, Deployment, OrganizationLicense, OrganizationParams } from './schemas.js';

const ListDeploymentsQuery = Type.Object(ListQuery, { additionalProperties: false });

export async function licenseRoutes(app: FastifyInstance, ctx: AppContext, tags: string[]) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/organizations/:org_id/license', {
    schema: {
      tags,
      summary: 'Get License',
      description: 'The license the organization holds; with none, the free plan (`license_id` null).',
      params: OrganizationParams,
      response: { 200: OrganizationLicense, ...errors(400, 401, 403, 404) },
    },
    handler: (request) =>
      inOrgIdTerms(licenses.getOrganizationLicense(ctx, request.principal, request.params.org_id)),
  });

  api.put('/organizations/:org_id/license', {
    schema: {
      tags,
      summary: 'Assign License',
      description:
        'Replaces the license held (admin keys). A license held by another organization answers 409 `license_assigned_elsewhere`.',
      params: OrganizationParams,
      body: AssignLicenseBody,
      response: { 200: OrganizationLicense, ...errors(400, 401, 403, 404, 409) },
    },
    handler: (request) =>
      inOrgIdTerms(
        licenses.assignLicense(ctx, request.principal, request.params.org_id, request.body.license_id),
      ),
  });

  api.delete('/organizations/:org_id/license', {
    schema: {
      tags,
      summary: 'Unassign License',
      description: 'Back to the free plan, which it answers with (admin keys).',
      params: OrganizationParams,
      response: { 200: OrganizationLicense, ...errors(400, 401, 403, 404) },
    },
    handler: (request) =>
      inOrgIdTerms(licenses.unassignLicense(ctx, request.principal, request.params.org_id)),
  });

  api.get('/organizations/:org_id/deployments', {
    schema: {
      tags,
      summary: 'Get Org Deployments',
      description:
        "Installations that reported under the organization's license while it held it; none without a license.",
      params: OrganizationParams,
      querystring: ListDeploymentsQuery,
      response: { 200: Type.Array(Deployment), ...errors(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const page = await inOrgIdTerms(
        listOrganizationDeployments(ctx, request.principal, request.params.org_id, {
          ...pageOf(request.query),
          include_deleted: false,
        }),
      );
      return itemsOf(request, reply, request.query, page);
    },
  });
}

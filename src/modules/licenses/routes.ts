import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import * as assignment from './assignment.js';
import {
  AssignLicenseBody,
  CreateLicenseBody,
  LicenseParams,
  LicenseQuery,
  ListLicensesQuery,
  UpdateLicenseBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['licenses'];
const LicenseOut = Type.Ref('License');
const OrganizationLicenseOut = Type.Ref('OrganizationLicense');
const OrgParams = Type.Object({ org: OrganizationRef });

export function licenseRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/licenses', {
      schema: {
        tags,
        summary: 'Create a license (admin keys)',
        body: CreateLicenseBody,
        response: { 201: LicenseOut, ...errors(400, 401, 403) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createLicense(ctx, request.principal, request.body);
      },
    });

    app.get('/licenses', {
      schema: {
        tags,
        summary: 'List licenses (admin keys)',
        querystring: ListLicensesQuery,
        response: { 200: Page(LicenseOut), ...errors(400, 401, 403) },
      },
      handler: (request) => service.listLicenses(ctx, request.principal, request.query),
    });

    app.get('/licenses/:license_id', {
      schema: {
        tags,
        summary: 'Get a license (admin keys)',
        params: LicenseParams,
        querystring: LicenseQuery,
        response: { 200: LicenseOut, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getLicense(ctx, request.principal, request.params.license_id, request.query.include_deleted),
    });

    app.patch('/licenses/:license_id', {
      schema: {
        tags,
        summary: 'Change a license: plan, seats, features, expiry (admin keys)',
        params: LicenseParams,
        body: UpdateLicenseBody,
        response: { 200: LicenseOut, ...errors(400, 401, 403, 404, 412) },
      },
      handler: (request) =>
        service.updateLicense(
          ctx,
          request.principal,
          request.params.license_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/licenses/:license_id', {
      schema: {
        tags,
        summary: 'Delete a license (soft; unassigns it)',
        params: LicenseParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await service.setLicenseRemoved(
          ctx,
          request.principal,
          request.params.license_id,
          true,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });

    app.post('/licenses/:license_id/restore', {
      schema: {
        tags,
        summary: 'Restore a deleted license (it comes back unassigned)',
        params: LicenseParams,
        response: { 200: LicenseOut, ...errors(400, 401, 403, 404, 412) },
      },
      handler: (request) =>
        service.setLicenseRemoved(
          ctx,
          request.principal,
          request.params.license_id,
          false,
          ifMatchOf(request),
        ),
    });

    app.get('/organizations/:org/license', {
      schema: {
        tags,
        summary: "The organization's license; the free plan when it holds none",
        description:
          'Only a license assigned to this organization itself; `GET .../entitlements` also shows one inherited from an ancestor.',
        params: OrgParams,
        response: { 200: OrganizationLicenseOut, ...errors(400, 401, 403, 404) },
      },
      handler: (request) => assignment.getOrganizationLicense(ctx, request.principal, request.params.org),
    });

    app.put('/organizations/:org/license', {
      schema: {
        tags,
        summary: 'Assign a license, replacing the one held (admin keys)',
        description:
          'A license serves one organization at a time: one assigned elsewhere answers 409 `license_assigned_elsewhere`.',
        params: OrgParams,
        body: AssignLicenseBody,
        response: { 200: OrganizationLicenseOut, ...errors(400, 401, 403, 404, 409) },
      },
      handler: (request) =>
        assignment.assignLicense(ctx, request.principal, request.params.org, request.body.license_id),
    });

    app.delete('/organizations/:org/license', {
      schema: {
        tags,
        summary: 'Unassign the license: back to the free plan (admin keys)',
        params: OrgParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) => {
        await assignment.unassignLicense(ctx, request.principal, request.params.org);
        return reply.code(204).send(null);
      },
    });

    app.get('/organizations/:org/entitlements', {
      schema: {
        tags,
        summary: 'The effective plan, seats and features, wherever on the path they come from',
        params: OrgParams,
        response: { 200: Type.Ref('Entitlements'), ...errors(400, 401, 403, 404) },
      },
      handler: (request) => assignment.getEntitlements(ctx, request.principal, request.params.org),
    });
  };
}

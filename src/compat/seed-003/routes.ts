import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ApiError } from '../../http/errors.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as members from '../../modules/members/service.js';
import * as organizations from '../../modules/organizations/service.js';
import { answerOrganization, camelOrganization } from './present.js';
import {
  CreateOrganizationInput,
  ListQuery,
  MemberParams,
  Organization,
  OrgParams,
  UpdateOrganizationInput,
} from './schemas.js';

/** The native changes of a PUT: the fields given, renamed; `organizationName` and `name` are one field. */
function nativeChanges(body: UpdateOrganizationInput) {
  if (body.organizationName !== undefined && body.name !== undefined) {
    throw new ApiError('invalid_request', 'Give the name as `organizationName` or `name`, not both.', 'name');
  }
  return {
    name: body.organizationName ?? body.name,
    domain: body.domain,
    friendly_name: body.friendlyName,
    description: body.description,
  };
}

export function organizationRoutes(ctx: AppContext, tags: string[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/organization', {
      schema: {
        tags,
        summary: 'Create organization',
        description: 'A user creating an organization becomes its owner.',
        body: CreateOrganizationInput,
        response: { 201: Organization, ...errors(400, 401, 402, 403, 404, 409, 422) },
      },
      handler: async (request, reply) => {
        const { organizationName, domain } = request.body;
        const org = await organizations.createOrganization(ctx, request.principal, {
          name: organizationName,
          domain,
        });
        reply.code(201);
        return answerOrganization(reply, org);
      },
    });

    app.get('/organization/list', {
      schema: {
        tags,
        summary: "List user's organizations",
        description:
          'The organizations the caller is a member of (an organization key: its own organization; ' +
          'an admin key: top-level organizations), oldest first, at most `limit` (default and ' +
          'maximum 100) from `offset`.',
        querystring: ListQuery,
        response: { 200: Type.Array(Organization), ...errors(400, 401, 403) },
      },
      handler: async (request) => {
        const page = await organizations.listOrganizations(ctx, request.principal, {
          ...request.query,
          direction: 'forward',
          no_children: true,
          active_only: false,
          include_deleted: false,
        });
        return page.data.map(camelOrganization);
      },
    });

    app.get('/organization/:organization_id', {
      schema: {
        tags,
        summary: 'Get organization details',
        params: OrgParams,
        response: { 200: Organization, ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) =>
        answerOrganization(
          reply,
          await organizations.getOrganization(ctx, request.principal, request.params.organization_id),
        ),
    });

    app.put('/organization/:organization_id', {
      schema: {
        tags,
        summary: 'Update organization',
        description: 'Changes the fields given and keeps the others.',
        params: OrgParams,
        body: UpdateOrganizationInput,
        response: { 200: Organization, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: async (request, reply) => {
        const org = await organizations.updateOrganization(
          ctx,
          request.principal,
          request.params.organization_id,
          nativeChanges(request.body),
          ifMatchOf(request),
        );
        return answerOrganization(reply, org);
      },
    });

    app.delete('/organization/:organization_id/member/:user_id', {
      schema: {
        tags,
        summary: 'Remove team member',
        description:
          'Admins remove members at or below their own role; anyone may leave; the last owner stays. ' +
          'Answers the organization.',
        params: MemberParams,
        response: { 200: Organization, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: async (request, reply) => {
        const { organization_id, user_id } = request.params;
        const org = await members.removeMember(
          ctx,
          request.principal,
          organization_id,
          user_id,
          ifMatchOf(request),
        );
        return answerOrganization(reply, org);
      },
    });
  };
}

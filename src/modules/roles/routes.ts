import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import {
  CreateRoleBody,
  ListPermissionsQuery,
  ListRolesQuery,
  OrgParams,
  PermissionEntry,
  RoleParams,
  UpdateRoleBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['roles'];
const RoleOut = Type.Ref('Role');

export function roleRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/permissions', {
      schema: {
        tags,
        summary: 'List the permissions custom roles can grant',
        description: 'Each with the built-in roles that hold it.',
        querystring: ListPermissionsQuery,
        response: { 200: Page(PermissionEntry), ...errors(400, 401) },
      },
      handler: async (request) => service.listPermissions(request.query),
    });

    app.get('/organizations/:org/roles', {
      schema: {
        tags,
        summary: 'List the roles members of the organization can hold',
        description:
          'The built-in roles (read-only) first, then the custom roles of the organization and of its ancestors.',
        params: OrgParams,
        querystring: ListRolesQuery,
        response: { 200: Page(RoleOut), ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.listRoles(ctx, request.principal, request.params.org, request.query),
    });

    app.post('/organizations/:org/roles', {
      schema: {
        tags,
        summary: 'Create a custom role (admins, or the role:manage permission)',
        params: OrgParams,
        body: CreateRoleBody,
        response: { 201: RoleOut, ...errors(400, 401, 403, 404, 409) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createRole(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.get('/organizations/:org/roles/:role_id', {
      schema: {
        tags,
        summary: 'Get a role by id or key',
        params: RoleParams,
        response: { 200: RoleOut, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getRole(ctx, request.principal, request.params.org, request.params.role_id),
    });

    app.patch('/organizations/:org/roles/:role_id', {
      schema: {
        tags,
        summary: 'Change a custom role of this organization',
        description: 'Changing `base_role` changes the rank of every member holding the role.',
        params: RoleParams,
        body: UpdateRoleBody,
        response: { 200: RoleOut, ...errors(400, 401, 403, 404, 409, 412, 422) },
      },
      handler: (request) =>
        service.updateRole(
          ctx,
          request.principal,
          request.params.org,
          request.params.role_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/organizations/:org/roles/:role_id', {
      schema: {
        tags,
        summary: 'Delete a custom role nothing uses',
        description:
          '409 `role_in_use` while a member holds it or an organization names it as `default_role_id`.',
        params: RoleParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409, 412, 422) },
      },
      handler: async (request, reply) => {
        await service.deleteRole(
          ctx,
          request.principal,
          request.params.org,
          request.params.role_id,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { parseMetadataFilters } from '../../http/metadata.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import { sendJson } from '../../http/serialization.js';
import * as children from './children.js';
import {
  CreateChildBody,
  CreateOrganizationBody,
  IncludeDeletedQuery,
  ListChildrenQuery,
  ListOrganizationsQuery,
  MoveOrganizationBody,
  UpdateOrganizationBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['organizations'];
const OrgParams = Type.Object({ org: OrganizationRef });
const ChildParams = Type.Object({ org: OrganizationRef, child: OrganizationRef });
const OrgRef = Type.Ref('Organization');

export function organizationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations', {
      schema: {
        tags,
        summary: 'List organizations the caller can reach',
        description:
          'Organizations the caller belongs to and, unless `no_children`, their teams. Admin keys see all.',
        querystring: ListOrganizationsQuery,
        response: { 200: Page(OrgRef), ...errors(400, 401, 403) },
      },
      preValidation: parseMetadataFilters,
      handler: async (request, reply) =>
        sendJson(reply, await service.listOrganizationsJson(ctx, request.principal, request.query)),
    });

    app.post('/organizations', {
      schema: {
        tags,
        summary: 'Create an organization',
        description: 'A user creating an organization becomes its owner; an admin key may name the owner.',
        body: CreateOrganizationBody,
        response: { 201: OrgRef, ...errors(400, 401, 402, 403, 404, 409, 422) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createOrganization(ctx, request.principal, request.body);
      },
    });

    app.get('/organizations/:org', {
      schema: {
        tags,
        summary: 'Get an organization by id or slug',
        params: OrgParams,
        querystring: IncludeDeletedQuery,
        response: { 200: OrgRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getOrganization(ctx, request.principal, request.params.org, request.query.include_deleted),
    });

    app.patch('/organizations/:org', {
      schema: {
        tags,
        summary: 'Update an organization',
        params: OrgParams,
        body: UpdateOrganizationBody,
        response: { 200: OrgRef, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.updateOrganization(
          ctx,
          request.principal,
          request.params.org,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/organizations/:org', {
      schema: {
        tags,
        summary: 'Delete an organization and its teams (soft; see restore)',
        params: OrgParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await service.deleteOrganization(ctx, request.principal, request.params.org, ifMatchOf(request));
        return reply.code(204).send(null);
      },
    });

    app.post('/organizations/:org/restore', {
      schema: {
        tags,
        summary: 'Restore a deleted organization and what its delete removed',
        params: OrgParams,
        response: { 200: OrgRef, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.restoreOrganization(ctx, request.principal, request.params.org, ifMatchOf(request)),
    });

    app.post('/organizations/:org/move', {
      schema: {
        tags,
        summary: 'Move an organization under another parent, or make it top-level',
        params: OrgParams,
        body: MoveOrganizationBody,
        response: { 200: OrgRef, ...errors(400, 401, 403, 404, 422, 412) },
      },
      handler: (request) =>
        service.moveOrganization(
          ctx,
          request.principal,
          request.params.org,
          request.body.parent_organization_id,
          ifMatchOf(request),
        ),
    });

    app.get('/organizations/:org/children', {
      schema: {
        tags: ['teams'],
        summary: 'List the teams (child organizations) of an organization',
        params: OrgParams,
        querystring: ListChildrenQuery,
        response: { 200: Page(OrgRef), ...errors(400, 401, 403, 404) },
      },
      preValidation: parseMetadataFilters,
      handler: async (request, reply) =>
        sendJson(
          reply,
          await children.listChildrenJson(ctx, request.principal, request.params.org, request.query),
        ),
    });

    app.post('/organizations/:org/children', {
      schema: {
        tags: ['teams'],
        summary: 'Create a team',
        params: OrgParams,
        body: CreateChildBody,
        response: { 201: OrgRef, ...errors(400, 401, 402, 403, 404, 409, 422) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return children.createChild(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.get('/organizations/:org/children/:child', {
      schema: {
        tags: ['teams'],
        summary: 'Get a team',
        params: ChildParams,
        response: { 200: OrgRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        children.getChild(ctx, request.principal, request.params.org, request.params.child),
    });

    app.patch('/organizations/:org/children/:child', {
      schema: {
        tags: ['teams'],
        summary: 'Update a team',
        params: ChildParams,
        body: UpdateOrganizationBody,
        response: { 200: OrgRef, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        children.updateChild(
          ctx,
          request.principal,
          request.params.org,
          request.params.child,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/organizations/:org/children/:child', {
      schema: {
        tags: ['teams'],
        summary: 'Delete a team and its own teams (soft)',
        params: ChildParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await children.deleteChild(
          ctx,
          request.principal,
          request.params.org,
          request.params.child,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import {
  CreateProjectBody,
  ListProjectsQuery,
  ProjectQuery,
  ProjectRef,
  UpdateProjectBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['projects'];
const OrgParams = Type.Object({ org: OrganizationRef });
const ProjectParams = Type.Object({ org: OrganizationRef, project_id: ProjectRef });
const ProjectOut = Type.Ref('Project');

export function projectRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations/:org/projects', {
      schema: {
        tags,
        summary: "List an organization's projects",
        params: OrgParams,
        querystring: ListProjectsQuery,
        response: { 200: Page(ProjectOut), ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.listProjects(ctx, request.principal, request.params.org, request.query),
    });

    app.post('/organizations/:org/projects', {
      schema: {
        tags,
        summary: 'Create a project (admins)',
        params: OrgParams,
        body: CreateProjectBody,
        response: { 201: ProjectOut, ...errors(400, 401, 403, 404, 409) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createProject(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.get('/organizations/:org/projects/:project_id', {
      schema: {
        tags,
        summary: 'Get a project by id or slug',
        params: ProjectParams,
        querystring: ProjectQuery,
        response: { 200: ProjectOut, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getProject(
          ctx,
          request.principal,
          request.params.org,
          request.params.project_id,
          request.query.include_deleted,
        ),
    });

    app.patch('/organizations/:org/projects/:project_id', {
      schema: {
        tags,
        summary: 'Update a project (admins)',
        params: ProjectParams,
        body: UpdateProjectBody,
        response: { 200: ProjectOut, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.updateProject(
          ctx,
          request.principal,
          request.params.org,
          request.params.project_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/organizations/:org/projects/:project_id', {
      schema: {
        tags,
        summary: 'Delete a project (soft; see restore)',
        params: ProjectParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await service.setProjectRemoved(
          ctx,
          request.principal,
          request.params.org,
          request.params.project_id,
          true,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });

    app.post('/organizations/:org/projects/:project_id/restore', {
      schema: {
        tags,
        summary: 'Restore a deleted project',
        params: ProjectParams,
        response: { 200: ProjectOut, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.setProjectRemoved(
          ctx,
          request.principal,
          request.params.org,
          request.params.project_id,
          false,
          ifMatchOf(request),
        ),
    });
  };
}

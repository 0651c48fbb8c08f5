import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import { ListAuditEventsQuery, ListOrganizationAuditEventsQuery } from './schemas.js';
import * as service from './service.js';

const tags = ['audit events'];
const EventRef = Type.Ref('AuditEvent');

/** Read-only on purpose: no route changes or deletes an event. */
export function auditEventRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations/:org/audit-events', {
      schema: {
        tags,
        summary: "An organization's audit trail (oldest first)",
        description: 'Admins of the organization read it; `include_descendants` adds its teams.',
        params: Type.Object({ org: OrganizationRef }),
        querystring: ListOrganizationAuditEventsQuery,
        response: { 200: Page(EventRef), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listOrganizationAuditEvents(ctx, request.principal, request.params.org, request.query),
    });

    app.get('/audit-events', {
      schema: {
        tags,
        summary: "The instance's audit trail (admin keys)",
        querystring: ListAuditEventsQuery,
        response: { 200: Page(EventRef), ...errors(400, 401, 403) },
      },
      handler: (request) => service.listAllAuditEvents(ctx, request.principal, request.query),
    });
  };
}

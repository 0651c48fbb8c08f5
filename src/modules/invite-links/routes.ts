import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import { CreateInviteLinkBody, InviteLinkParams, ListInviteLinksQuery, OrgParams } from './schemas.js';
import * as service from './service.js';

const tags = ['invitations'];
const LinkRef = Type.Ref('InviteLink');

export function inviteLinkRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations/:org/invite-links', {
      schema: {
        tags,
        summary: 'List invite links (admins)',
        params: OrgParams,
        querystring: ListInviteLinksQuery,
        response: { 200: Page(LinkRef), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listInviteLinks(ctx, request.principal, request.params.org, request.query),
    });

    app.post('/organizations/:org/invite-links', {
      schema: {
        tags,
        summary: 'Create a shareable invite link (admins)',
        description:
          'Any user holding the token may join with its role (`member` or `viewer`), until it expires, ' +
          'is revoked or reaches `max_uses`. The token is in this response only.',
        params: OrgParams,
        body: CreateInviteLinkBody,
        response: { 201: Type.Ref('CreatedInviteLink'), ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createInviteLink(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.get('/organizations/:org/invite-links/:link_id', {
      schema: {
        tags,
        summary: 'Get an invite link (admins)',
        params: InviteLinkParams,
        response: { 200: LinkRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getInviteLink(ctx, request.principal, request.params.org, request.params.link_id),
    });

    app.delete('/organizations/:org/invite-links/:link_id', {
      schema: {
        tags,
        summary: 'Revoke an invite link; its token stops working',
        params: InviteLinkParams,
        response: { 200: LinkRef, ...errors(400, 401, 403, 404, 412) },
      },
      handler: (request) =>
        service.revokeInviteLink(
          ctx,
          request.principal,
          request.params.org,
          request.params.link_id,
          ifMatchOf(request),
        ),
    });
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import { acceptInvitation } from './accept.js';
import { bulkInvite } from './bulk.js';
import {
  AcceptInvitationBody,
  BulkInvitationsAnswer,
  BulkInvitationsBody,
  CreateInvitationBody,
  InvitationParams,
  ListInvitationsQuery,
  ListMyInvitationsQuery,
  OrgParams,
  ResendInvitationBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['invitations'];
const InvitationRef = Type.Ref('Invitation');
const CreatedRef = Type.Ref('CreatedInvitation');

export function invitationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations/:org/invitations', {
      schema: {
        tags,
        summary: 'List invitations (admins)',
        params: OrgParams,
        querystring: ListInvitationsQuery,
        response: { 200: Page(InvitationRef), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listInvitations(ctx, request.principal, request.params.org, request.query),
    });

    app.post('/organizations/:org/invitations', {
      schema: {
        tags,
        summary: 'Invite an email address (admins)',
        description:
          'The token is in this response only: hand it to the invitee, who accepts it at `POST /v1/invitations/accept`.',
        params: OrgParams,
        body: CreateInvitationBody,
        response: { 201: CreatedRef, ...errors(400, 401, 403, 404, 409) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createInvitation(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.post('/organizations/:org/invitations/bulk', {
      schema: {
        tags,
        summary: 'Invite up to 1,000 email addresses (admins)',
        description:
          'One transaction; 200 with one result per entry, in order. An entry refused on its own ' +
          '(`already_member`, `already_invited`, `duplicate`, `invalid`) does not stop the others.',
        params: OrgParams,
        body: BulkInvitationsBody,
        response: { 200: BulkInvitationsAnswer, ...errors(400, 401, 403, 404, 413) },
      },
      handler: (request) => bulkInvite(ctx, request.principal, request.params.org, request.body),
    });

    app.get('/organizations/:org/invitations/:invitation_id', {
      schema: {
        tags,
        summary: 'Get an invitation (admins)',
        params: InvitationParams,
        response: { 200: InvitationRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getInvitation(ctx, request.principal, request.params.org, request.params.invitation_id),
    });

    app.delete('/organizations/:org/invitations/:invitation_id', {
      schema: {
        tags,
        summary: 'Revoke an invitation; its token stops working',
        params: InvitationParams,
        response: { 200: InvitationRef, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.revokeInvitation(
          ctx,
          request.principal,
          request.params.org,
          request.params.invitation_id,
          ifMatchOf(request),
        ),
    });

    app.post('/organizations/:org/invitations/:invitation_id/resend', {
      schema: {
        tags,
        summary: 'Issue a new token and a new expiry; the old token stops working',
        params: InvitationParams,
        body: ResendInvitationBody,
        response: { 200: CreatedRef, ...errors(400, 401, 403, 404, 409, 410, 412) },
      },
      // The body is optional: an empty POST renews for the default time.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      handler: (request) =>
        service.resendInvitation(
          ctx,
          request.principal,
          request.params.org,
          request.params.invitation_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.post('/invitations/accept', {
      schema: {
        tags,
        summary: 'Accept an invitation or an invite link as the calling user',
        description:
          'An invitation (`osi_...`) is accepted by the user with its email; an invite link (`osl_...`) ' +
          'by any user who is not yet a member. Answers the new membership.',
        body: AcceptInvitationBody,
        response: { 201: Type.Ref('Member'), ...errors(400, 401, 403, 404, 409, 410) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return acceptInvitation(ctx, request.principal, request.body.token);
      },
    });

    app.get('/me/invitations', {
      schema: {
        tags,
        summary: "Pending invitations to the calling user's email",
        querystring: ListMyInvitationsQuery,
        response: { 200: Page(InvitationRef), ...errors(400, 401, 403) },
      },
      handler: (request) => service.listMyInvitations(ctx, request.principal, request.query),
    });
  };
}

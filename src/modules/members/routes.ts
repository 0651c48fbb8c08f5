import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import { sendJson } from '../../http/serialization.js';
import { bulkAddMembers } from './bulk.js';
import {
  AddMemberBody,
  BulkAddMembersAnswer,
  BulkAddMembersBody,
  ListMembersQuery,
  MemberParams,
  OrgParams,
  TransferOwnershipBody,
  UpdateMemberBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['members'];
const MemberRef = Type.Ref('Member');

export function memberRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/organizations/:org/members', {
      schema: {
        tags,
        summary: 'List members',
        description:
          'With `include_inherited`, people who reach the organization through an ancestor are listed too.',
        params: OrgParams,
        querystring: ListMembersQuery,
        response: { 200: Page(MemberRef), ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) =>
        sendJson(
          reply,
          await service.listMembersJson(ctx, request.principal, request.params.org, request.query),
        ),
    });

    app.post('/organizations/:org/transfer-ownership', {
      schema: {
        tags,
        summary: 'Make a member an owner, stepping down to another role (owners only)',
        params: OrgParams,
        body: TransferOwnershipBody,
        response: { 200: MemberRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.transferOwnership(ctx, request.principal, request.params.org, request.body),
    });

    app.post('/organizations/:org/members', {
      schema: {
        tags,
        summary: 'Add a member by email or user id',
        params: OrgParams,
        body: AddMemberBody,
        response: { 201: MemberRef, ...errors(400, 401, 402, 403, 404, 409) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.addMember(ctx, request.principal, request.params.org, request.body);
      },
    });

    app.get('/organizations/:org/members/:user_id', {
      schema: {
        tags,
        summary: 'Get a membership',
        params: MemberParams,
        response: { 200: MemberRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.getMember(ctx, request.principal, request.params.org, request.params.user_id),
    });

    app.patch('/organizations/:org/members/:user_id', {
      schema: {
        tags,
        summary: "Change a member's role or metadata",
        description: 'Each metadata object given replaces the stored one whole.',
        params: MemberParams,
        body: UpdateMemberBody,
        response: { 200: MemberRef, ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: (request) =>
        service.updateMember(
          ctx,
          request.principal,
          request.params.org,
          request.params.user_id,
          request.body,
          ifMatchOf(request),
        ),
    });

    app.delete('/organizations/:org/members/:user_id', {
      schema: {
        tags,
        summary: 'Remove a member (the last owner stays)',
        params: MemberParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409, 412) },
      },
      handler: async (request, reply) => {
        await service.removeMember(
          ctx,
          request.principal,
          request.params.org,
          request.params.user_id,
          ifMatchOf(request),
        );
        return reply.code(204).send(null);
      },
    });

    app.post('/organizations/:org/members/bulk', {
      schema: {
        tags,
        summary: 'Add up to 1,000 members by email or user id',
        description:
          'One transaction; 200 with one result per entry, in order. An entry refused on its own ' +
          '(`already_member`, `duplicate`, `seat_limit_reached`, `invalid`) does not stop the others.',
        params: OrgParams,
        body: BulkAddMembersBody,
        response: { 200: BulkAddMembersAnswer, ...errors(400, 401, 403, 404, 413) },
      },
      handler: (request) => bulkAddMembers(ctx, request.principal, request.params.org, request.body),
    });
  };
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as members from '../../modules/members/service.js';
import { inOrgIdTerms } from './errors.js';
import { itemsOf, ListQuery, pageOf } from './lists.js';
import { AddMemberBody, Member, MemberParams, OrganizationParams, RemovedMember } from './schemas.js';

const ListMembersQuery = Type.Object(ListQuery, { additionalProperties: false });

export async function memberRoutes(app: FastifyInstance, ctx: AppContext, tags: string[]) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/organizations/:org_id/members', {
    schema: {
      tags,
      summary: 'Get Members',
      description: 'The direct members of the organization, in the order they joined.',
      params: OrganizationParams,
      querystring: ListMembersQuery,
      response: { 200: Type.Array(Member), ...errors(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const page = await inOrgIdTerms(
        members.listMembers(ctx, request.principal, request.params.org_id, {
          ...pageOf(request.query),
          include_inherited: false,
        }),
      );
      return itemsOf(request, reply, request.query, page);
    },
  });

  api.post('/organizations/:org_id/members', {
    schema: {
      tags,
      summary: 'Add Org Member',
      description:
        "Adds the user with this email (created if unknown) with the organization's default role, `member` unless set.",
      params: OrganizationParams,
      body: AddMemberBody,
      response: { 200: Member, ...errors(400, 401, 402, 403, 404, 409) },
    },
    handler: (request) =>
      inOrgIdTerms(
        members.addMember(ctx, request.principal, request.params.org_id, { email: request.body.email }),
      ),
  });

  api.delete('/organizations/:org_id/members/:user_id', {
    schema: {
      tags,
      summary: 'Remove Org Member',
      description: 'Anyone may leave; admins remove members at or below their role. The last owner stays.',
      params: MemberParams,
      response: { 200: RemovedMember, ...errors(400, 401, 403, 404, 409, 412) },
    },
    handler: async (request) => {
      const { org_id, user_id } = request.params;
      await inOrgIdTerms(members.removeMember(ctx, request.principal, org_id, user_id, ifMatchOf(request)));
      return { organization_id: org_id.toLowerCase(), user_id: user_id.toLowerCase(), deleted: true };
    },
  });
}

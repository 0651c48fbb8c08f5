import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { errors } from '../../http/schemas.js';
import { UserParams } from '../users/schemas.js';
import { ListUserMembershipsQuery } from './schemas.js';
import * as service from './service.js';

const tags = ['memberships'];
const MembershipPage = Page(Type.Ref('UserMembership'));

export function membershipRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/users/:user_id/memberships', {
      schema: {
        tags,
        summary: "A user's memberships across organizations (admin keys, or the user itself)",
        description:
          'Direct memberships in organizations that are not deleted, by organization id, with the role and ' +
          'public metadata of each. Teams reached through a parent are not listed.',
        params: UserParams,
        querystring: ListUserMembershipsQuery,
        response: { 200: MembershipPage, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listUserMemberships(ctx, request.principal, request.params.user_id, request.query),
    });

    app.get('/me/memberships', {
      schema: {
        tags,
        summary: "The calling user's memberships across organizations (personal keys)",
        querystring: ListUserMembershipsQuery,
        response: { 200: MembershipPage, ...errors(400, 401, 403) },
      },
      handler: (request) => service.listMyMemberships(ctx, request.principal, request.query),
    });
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import { parseDecimalsExactly } from '../usage/decimals.js';
import { Budget, MaxOveragesBody, PutBudgetBody } from './schemas.js';
import * as service from './service.js';

const tags = ['budgets'];
const OrgParams = Type.Object({ org: OrganizationRef });

/** A budget has no id of its own, so its ETag is set here rather than by the shared hook. */
function tagged(reply: FastifyReply, budget: Budget): Budget {
  const tag = service.budgetTag(budget);
  if (tag) reply.header('etag', tag);
  return budget;
}

export function budgetRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    parseDecimalsExactly(app);

    app.get('/organizations/:org/budget', {
      schema: {
        tags,
        summary: "The organization's monthly budget, maximum overage and this month's billable cost",
        params: OrgParams,
        response: { 200: Budget, ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) =>
        tagged(reply, await service.getBudget(ctx, request.principal, request.params.org)),
    });

    app.put('/organizations/:org/budget', {
      schema: {
        tags,
        summary: 'Set the monthly budget (admins)',
        description:
          "The budget covers the organization's teams too. Billable usage that would take a calendar " +
          'month (UTC) past `monthly_limit + max_overage` is refused with 402 `budget_exceeded`.',
        params: OrgParams,
        body: PutBudgetBody,
        response: { 200: Budget, ...errors(400, 401, 403, 404, 409, 412, 422) },
      },
      handler: async (request, reply) =>
        tagged(
          reply,
          await service.putBudget(
            ctx,
            request.principal,
            request.params.org,
            request.body,
            ifMatchOf(request),
          ),
        ),
    });

    app.patch('/organizations/:org/max-overages', {
      schema: {
        tags,
        summary: 'Set the maximum overage past the monthly budget (admins)',
        params: OrgParams,
        body: MaxOveragesBody,
        response: { 200: Budget, ...errors(400, 401, 403, 404, 409, 412, 422) },
      },
      handler: async (request, reply) =>
        tagged(
          reply,
          await service.setMaxOverage(
            ctx,
            request.principal,
            request.params.org,
            request.body,
            ifMatchOf(request),
          ),
        ),
    });
  };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { ApiError } from '../../http/errors.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors } from '../../http/schemas.js';
import * as budgets from '../../modules/budgets/service.js';
import { parseDecimalsExactly } from '../../modules/usage/decimals.js';
import { answerOverage } from './present.js';
import { MaxOverageInput, OrgParams, OverageConfig } from './schemas.js';

function maxOverageOf(body: MaxOverageInput): string {
  const value = body.maxOverage ?? body.max_overage;
  if (value === undefined || (body.maxOverage !== undefined && body.max_overage !== undefined)) {
    throw new ApiError(
      'invalid_request',
      'Give exactly one of `maxOverage` and `max_overage`.',
      'maxOverage',
    );
  }
  return value;
}

export function overageRoutes(ctx: AppContext, tags: string[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Amounts stay exact in either spelling, whether sent as strings or as JSON numbers.
    parseDecimalsExactly(app, new Set(['maxOverage', 'max_overage']));

    app.patch('/organization/:organization_id/max-overages', {
      schema: {
        tags,
        summary: 'Set max overage limit',
        description:
          'How far past its monthly budget the billable usage of the organization and its teams may ' +
          'go; usage past `ceiling` is refused with 402 `budget_exceeded`. Admins only.',
        params: OrgParams,
        body: MaxOverageInput,
        response: { 200: OverageConfig, ...errors(400, 401, 403, 404, 409, 412, 422) },
      },
      handler: async (request, reply) => {
        const budget = await budgets.setMaxOverage(
          ctx,
          request.principal,
          request.params.organization_id,
          { max_overage: maxOverageOf(request.body) },
          ifMatchOf(request),
        );
        return answerOverage(reply, budget);
      },
    });
  };
}

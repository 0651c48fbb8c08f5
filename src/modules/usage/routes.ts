import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { errors, OrganizationRef } from '../../http/schemas.js';
import { parseDecimalsExactly } from './decimals.js';
import {
  CostQuery,
  CostSummary,
  IngestedBatch,
  IngestUsageBody,
  StorageType,
  StorageTypeCostSummary,
} from './schemas.js';
import * as service from './service.js';

const tags = ['usage'];
const OrgParams = Type.Object({ org: OrganizationRef });
const StorageTypeParams = Type.Object({ org: OrganizationRef, storage_type: StorageType });

export function usageRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    parseDecimalsExactly(app);

    app.post('/organizations/:org/usage', {
      bodyLimit: ctx.config.http.usageBodyLimitBytes,
      schema: {
        tags,
        summary: 'Ingest a batch of usage records (all or nothing)',
        description:
          'Organization keys of the organization or an ancestor, admin keys, and admins of the organization. ' +
          'Refused with 402 `budget_exceeded` when a budget on the organization or above it would go past ' +
          'its monthly limit plus maximum overage. With `Idempotency-Key`, a repeated batch is answered ' +
          'with the first one and not counted again.',
        params: OrgParams,
        body: IngestUsageBody,
        response: { 201: IngestedBatch, ...errors(400, 401, 402, 403, 404, 409, 413, 422) },
      },
      handler: async (request, reply) => {
        const key = request.headers['idempotency-key'];
        const result = await service.ingestUsage(
          ctx,
          request.principal,
          request.params.org,
          request.body,
          typeof key === 'string' ? key : null,
        );
        if (result.replayed) reply.header('idempotent-replayed', 'true');
        reply.code(201);
        return result.batch;
      },
    });

    app.get('/organizations/:org/costs', {
      schema: {
        tags,
        summary: 'Cost and usage summary of every storage type',
        params: OrgParams,
        querystring: CostQuery,
        response: { 200: CostSummary, ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.costSummary(ctx, request.principal, request.params.org, request.query),
    });

    app.get('/organizations/:org/costs/storage-types/:storage_type', {
      schema: {
        tags,
        summary: 'Cost and usage summary of one storage type, by pipeline and by hour',
        description:
          'Summaries read hourly rollups: `start` is rounded down and `end` up to whole hours, and ' +
          '`start_at`/`end_at` in the answer name the hours counted.',
        params: StorageTypeParams,
        querystring: CostQuery,
        response: { 200: StorageTypeCostSummary, ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.storageTypeSummary(
          ctx,
          request.principal,
          request.params.org,
          request.params.storage_type,
          request.query,
        ),
    });
  };
}

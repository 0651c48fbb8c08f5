import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../../context.js';
import { Page } from '../../http/pagination.js';
import { ifMatchOf } from '../../http/preconditions.js';
import { errors, Uuid } from '../../http/schemas.js';
import {
  CreateWebhookEndpointBody,
  ListDeliveriesQuery,
  ListWebhookEndpointsQuery,
  UpdateWebhookEndpointBody,
} from './schemas.js';
import * as service from './service.js';

const tags = ['webhooks'];
const Params = Type.Object({ id: Uuid() });
const EndpointRef = Type.Ref('WebhookEndpoint');

export function webhookRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/webhook-endpoints', {
      schema: {
        tags,
        summary: 'List webhook endpoints',
        description:
          "Admin keys list all (or one organization's); others name an organization they administer.",
        querystring: ListWebhookEndpointsQuery,
        response: { 200: Page(EndpointRef), ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.listWebhookEndpoints(ctx, request.principal, request.query),
    });

    app.post('/webhook-endpoints', {
      schema: {
        tags,
        summary: 'Create a webhook endpoint',
        description:
          'Events of the organization (and its teams) are POSTed to `url`, signed as Standard Webhooks specifies. ' +
          'URLs that resolve to private, loopback or link-local addresses are refused.',
        body: CreateWebhookEndpointBody,
        response: { 201: Type.Ref('CreatedWebhookEndpoint'), ...errors(400, 401, 403, 404, 422) },
      },
      handler: async (request, reply) => {
        reply.code(201);
        return service.createEndpoint(ctx, request.principal, request.body);
      },
    });

    app.get('/webhook-endpoints/:id', {
      schema: {
        tags,
        summary: 'Get a webhook endpoint',
        params: Params,
        response: { 200: EndpointRef, ...errors(400, 401, 403, 404) },
      },
      handler: (request) => service.getEndpoint(ctx, request.principal, request.params.id),
    });

    app.patch('/webhook-endpoints/:id', {
      schema: {
        tags,
        summary: 'Update a webhook endpoint (enabling it again resets its failure count)',
        params: Params,
        body: UpdateWebhookEndpointBody,
        response: { 200: EndpointRef, ...errors(400, 401, 403, 404, 412, 422) },
      },
      handler: (request) =>
        service.updateEndpoint(ctx, request.principal, request.params.id, request.body, ifMatchOf(request)),
    });

    app.delete('/webhook-endpoints/:id', {
      schema: {
        tags,
        summary: 'Delete a webhook endpoint and its delivery history',
        params: Params,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 412) },
      },
      handler: async (request, reply) => {
        await service.removeEndpoint(ctx, request.principal, request.params.id, ifMatchOf(request));
        return reply.code(204).send(null);
      },
    });

    app.get('/webhook-endpoints/:id/deliveries', {
      schema: {
        tags,
        summary: "An endpoint's deliveries, each with every attempt",
        params: Params,
        querystring: ListDeliveriesQuery,
        response: { 200: Page(Type.Ref('WebhookDelivery')), ...errors(400, 401, 403, 404) },
      },
      handler: (request) =>
        service.listEndpointDeliveries(ctx, request.principal, request.params.id, request.query),
    });

    app.post('/webhook-endpoints/:id/test', {
      schema: {
        tags,
        summary: 'Send a test event to this endpoint',
        params: Params,
        response: { 202: Type.Object({ event_id: Uuid() }), ...errors(400, 401, 403, 404) },
      },
      handler: async (request, reply) => {
        reply.code(202);
        return service.sendTestEvent(ctx, request.principal, request.params.id);
      },
    });
  };
}

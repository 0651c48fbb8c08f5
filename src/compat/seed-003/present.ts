import type { FastifyReply } from 'fastify';
import { entityTag } from '../../http/preconditions.js';
import type { Budget } from '../../modules/budgets/schemas.js';
import { budgetTag } from '../../modules/budgets/service.js';
import type { Organization as NativeOrganization } from '../../modules/organizations/schemas.js';
import type { Organization } from './schemas.js';

export function camelOrganization(org: NativeOrganization): Organization {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    domain: org.domain,
    friendlyName: org.friendly_name,
    description: org.description,
    parentOrganizationId: org.parent_organization_id,
    active: org.active,
    createdAt: org.created_at,
    updatedAt: org.updated_at,
  };
}

/**
 * One organization as the answer, with the ETag `/v1` gives the same version (the shared hook
 * reads `updated_at`, which the camelCase shape no longer has), so If-Match works across routers.
 */
export function answerOrganization(reply: FastifyReply, org: NativeOrganization): Organization {
  const tag = entityTag(org);
  if (tag) reply.header('etag', tag);
  return camelOrganization(org);
}

export function answerOverage(reply: FastifyReply, budget: Budget) {
  const tag = budgetTag(budget);
  if (tag) reply.header('etag', tag);
  return {
    organizationId: budget.organization_id,
    maxOverage: budget.max_overage,
    monthlyLimit: budget.monthly_limit,
    ceiling: budget.ceiling,
    currency: budget.currency,
    period: budget.period,
    periodCost: budget.period_cost,
    updatedAt: budget.updated_at,
  };
}

import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import { checkIfMatch, entityTag, type IfMatch } from '../../http/preconditions.js';
import type { Principal } from '../../http/principal.js';
import { recordAuditEvent } from '../audit-events/record.js';
import { reachOrganization } from '../organizations/access.js';
import { needing } from '../roles/permissions.js';
import { type BudgetRow, budgetView, findBudget, upsertBudget } from './queries.js';
import type { Budget, MaxOveragesBody, PutBudgetBody } from './schemas.js';

// A budget is a setting of the organization: the scope that changes the organization changes it,
// so a key made for ingesting usage (`usage:write`) cannot raise the budget it is held to.
const read = { role: 'viewer', scope: 'organization:read' } as const;
const write = needing('billing:manage', 'organization:write');

/** The current calendar month in UTC: `{ month: '2026-12-01', period: '2026-12' }`. */
function currentMonth(now = new Date()) {
  const period = now.toISOString().slice(0, 7);
  return { month: `${period}-01`, period };
}

async function present(db: Queryable, organizationId: string): Promise<Budget> {
  const { month, period } = currentMonth();
  const view = await budgetView(db, organizationId, month);
  return { organization_id: organizationId, ...view, period };
}

/**
 * A budget's version is that of its terms: `period_cost` in the answer moves with usage, but a
 * write made against a version of the terms is what If-Match guards.
 */
const version = (organizationId: string, updatedAt: string | null) => ({
  id: `budget/${organizationId}`,
  updated_at: updatedAt ?? undefined,
});

/** The ETag of a budget answer; null while no budget was ever set. */
export const budgetTag = (budget: Budget) => entityTag(version(budget.organization_id, budget.updated_at));

/** If-Match against the budget as it is now (locked): a tag, or `*`, needs one to exist. */
function checkBudgetIfMatch(ifMatch: IfMatch, organizationId: string, current: BudgetRow | undefined) {
  if (ifMatch === '*' && !current) {
    throw new ApiError('precondition_failed', 'The organization has no budget yet.', 'If-Match');
  }
  checkIfMatch(ifMatch, version(organizationId, current?.updated_at ?? null));
}

/** What the audit trail records of a budget: its terms, not the month's spending. */
const terms = (row: BudgetRow) => ({
  monthly_limit: row.monthly_limit,
  currency: row.currency,
  max_overage: row.max_overage,
});

export async function getBudget(ctx: AppContext, principal: Principal, orgRef: string): Promise<Budget> {
  const org = await reachOrganization(ctx.db, principal, orgRef, read);
  return present(ctx.db, org.id);
}

async function changeBudget(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  changes: Parameters<typeof upsertBudget>[2],
  ifMatch: IfMatch,
): Promise<Budget> {
  return ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, write);
    const before = await findBudget(tx, org.id, { lock: true });
    checkBudgetIfMatch(ifMatch, org.id, before);
    const after = await upsertBudget(tx, org, changes);
    await recordAuditEvent(tx, principal, {
      action: 'budget.updated',
      organization: org,
      target: { type: 'budget', id: org.id },
      before: before ? terms(before) : null,
      after: terms(after),
    });
    return present(tx, org.id);
  });
}

/** Sets the monthly limit and currency; the maximum overage is kept. */
export function putBudget(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: PutBudgetBody,
  ifMatch?: IfMatch,
) {
  return changeBudget(
    ctx,
    principal,
    orgRef,
    { monthlyLimit: input.monthly_limit, currency: input.currency ?? 'USD' },
    ifMatch,
  );
}

/** Sets how far past its monthly limit the organization's billable usage may go. */
export function setMaxOverage(
  ctx: AppContext,
  principal: Principal,
  orgRef: string,
  input: MaxOveragesBody,
  ifMatch?: IfMatch,
) {
  return changeBudget(ctx, principal, orgRef, { maxOverage: input.max_overage }, ifMatch);
}

import type { AppContext } from '../../context.js';
import type { Queryable } from '../../db/client.js';
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
): Promise<Budget> {
  return ctx.db.transaction(async (tx) => {
    const org = await reachOrganization(tx, principal, orgRef, write);
    const before = await findBudget(tx, org.id, { lock: true });
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
export function putBudget(ctx: AppContext, principal: Principal, orgRef: string, input: PutBudgetBody) {
  return changeBudget(ctx, principal, orgRef, {
    monthlyLimit: input.monthly_limit,
    currency: input.currency ?? 'USD',
  });
}

/** Sets how far past its monthly limit the organization's billable usage may go. */
export function setMaxOverage(ctx: AppContext, principal: Principal, orgRef: string, input: MaxOveragesBody) {
  return changeBudget(ctx, principal, orgRef, { maxOverage: input.max_overage });
}

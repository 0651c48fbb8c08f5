import type { Queryable } from '../../db/client.js';
import { isoColumn, isoText, touchUpdatedAt } from '../../db/columns.js';
import { decimalText, type MonthlyBillable } from '../usage/queries.js';

export interface BudgetRow {
  organization_id: string;
  monthly_limit: string | null;
  currency: string;
  max_overage: string;
  created_at: string;
  updated_at: string;
}

const COLUMNS = `organization_id, ${decimalText('monthly_limit')} as monthly_limit, currency,
  ${decimalText('max_overage')} as max_overage, ${isoColumn('created_at')}, ${isoColumn('updated_at')}`;

export async function findBudget(
  db: Queryable,
  organizationId: string,
  options: { lock?: boolean } = {},
): Promise<BudgetRow | undefined> {
  const rows = await db.query<BudgetRow>(
    `select ${COLUMNS} from budgets where organization_id = $1 ${options.lock ? 'for update' : ''}`,
    [organizationId],
  );
  return rows[0];
}

/** Sets the given fields, creating the budget row if the organization has none yet. */
export async function upsertBudget(
  db: Queryable,
  org: { id: string; root_id: string },
  changes: { monthlyLimit?: string | null; currency?: string; maxOverage?: string },
): Promise<BudgetRow> {
  const set: string[] = [touchUpdatedAt('budgets')];
  if (changes.monthlyLimit !== undefined) set.push('monthly_limit = excluded.monthly_limit');
  if (changes.currency !== undefined) set.push('currency = excluded.currency');
  if (changes.maxOverage !== undefined) set.push('max_overage = excluded.max_overage');
  const rows = await db.query<BudgetRow>(
    `insert into budgets (organization_id, root_id, monthly_limit, currency, max_overage)
     values ($1, $2, $3::numeric, coalesce($4, 'USD'), coalesce($5::numeric, 0))
     on conflict (organization_id) do update set ${set.join(', ')}
     returning ${COLUMNS}`,
    [org.id, org.root_id, changes.monthlyLimit ?? null, changes.currency ?? null, changes.maxOverage ?? null],
  );
  return rows[0]!;
}

export interface BudgetView {
  monthly_limit: string | null;
  currency: string;
  max_overage: string;
  ceiling: string | null;
  period_cost: string;
  updated_at: string | null;
}

/**
 * The organization's budget (defaults when it has none) with its ceiling and the billable cost of
 * the organization and its teams in one calendar month (`YYYY-MM-01`), in one statement.
 */
export async function budgetView(db: Queryable, organizationId: string, month: string): Promise<BudgetView> {
  const rows = await db.query<BudgetView>(
    `select ${decimalText('b.monthly_limit')} as monthly_limit, coalesce(b.currency, 'USD') as currency,
            ${decimalText('coalesce(b.max_overage, 0)')} as max_overage,
            ${decimalText('b.monthly_limit + b.max_overage')} as ceiling,
            ${decimalText('coalesce(t.billable_cost, 0)')} as period_cost,
            ${isoText('b.updated_at')} as updated_at
       from (select $1::uuid as id) o
       left join budgets b on b.organization_id = o.id
       left join usage_month_totals t on t.organization_id = o.id and t.month = $2::date`,
    [organizationId, month],
  );
  return rows[0]!;
}

export interface ExceededBudget {
  organization_id: string;
  period: string;
}

/**
 * Adds a batch's billable cost to the running month totals of its organization and every
 * ancestor, and answers the first budget on that path the new totals take past its limit plus
 * overage (none: the batch fits). The upsert locks each total row until the transaction ends, so
 * concurrent batches under one budget queue here and each sees the totals of those before it;
 * rows are taken in one order (organization, month) so they cannot deadlock.
 */
export async function chargeMonthTotals(
  db: Queryable,
  path: { ids: string[]; rootId: string },
  billable: MonthlyBillable[],
): Promise<ExceededBudget | undefined> {
  const rows = await db.query<ExceededBudget>(
    `with added as (
       insert into usage_month_totals as t (organization_id, month, root_id, billable_cost)
       select p.id, m.month, $2::uuid, m.cost
         from unnest($1::uuid[]) as p(id)
        cross join unnest($3::date[], $4::numeric[]) as m(month, cost)
        order by p.id, m.month
       on conflict (organization_id, month) do update set billable_cost = t.billable_cost + excluded.billable_cost
       returning t.organization_id, t.month, t.billable_cost
     )
     select a.organization_id, to_char(a.month, 'YYYY-MM') as period
       from added a join budgets b on b.organization_id = a.organization_id
      where b.monthly_limit is not null and a.billable_cost > b.monthly_limit + b.max_overage
      order by a.month, array_position($1::uuid[], a.organization_id)
      limit 1`,
    [path.ids, path.rootId, billable.map((m) => m.month), billable.map((m) => m.cost)],
  );
  return rows[0];
}

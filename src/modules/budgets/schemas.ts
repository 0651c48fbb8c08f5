import { type Static, Type } from 'typebox';
import { Nullable, NullableTimestamp, Uuid } from '../../http/schemas.js';
import { Decimal } from '../usage/decimals.js';

const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description: 'ISO 4217 code of the currency usage costs are reported in (default USD).',
});

export const Budget = Type.Object({
  organization_id: Uuid(),
  monthly_limit: Nullable(Type.String(), 'Exact decimal; null: no limit.'),
  currency: Type.String(),
  max_overage: Type.String({ description: 'Exact decimal allowed past `monthly_limit` (default 0).' }),
  ceiling: Nullable(Type.String(), '`monthly_limit + max_overage`: billable usage past it is refused.'),
  period: Type.String({ description: 'The current calendar month (UTC), e.g. `2026-12`.' }),
  period_cost: Type.String({
    description: 'Billable cost of the organization and its teams in `period`, exact decimal.',
  }),
  updated_at: NullableTimestamp('Null when no budget was ever set.'),
});
export type Budget = Static<typeof Budget>;

export const PutBudgetBody = Type.Object(
  {
    monthly_limit: Nullable(
      Decimal('Billable cost allowed per calendar month (UTC), teams included; null removes the limit.'),
    ),
    currency: Type.Optional(Currency),
  },
  { additionalProperties: false },
);
export type PutBudgetBody = Static<typeof PutBudgetBody>;

export const MaxOveragesBody = Type.Object(
  {
    max_overage: Decimal('How far past `monthly_limit` billable usage may go in a month.'),
  },
  { additionalProperties: false },
);
export type MaxOveragesBody = Static<typeof MaxOveragesBody>;

import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Nullable, NullableTimestamp, OrganizationRef, Timestamp, Uuid } from '../../http/schemas.js';
import { CreateOrganizationBody } from '../../modules/organizations/schemas.js';
import { Decimal } from '../../modules/usage/decimals.js';

// Field rules (lengths, the domain pattern) are the native ones, picked from the native schema.
const native = CreateOrganizationBody.properties;

/** The organization in camelCase, as the seed's request fields are cased. */
export const Organization = Type.Object({
  id: Uuid(),
  name: Type.String(),
  slug: Type.String({ description: 'Unique among live organizations; usable in place of the id.' }),
  domain: Nullable(Type.String(), 'Primary domain, lowercase.'),
  friendlyName: Nullable(Type.String()),
  description: Nullable(Type.String()),
  parentOrganizationId: Nullable(Uuid(), 'Set for a team (child organization).'),
  active: Type.Boolean(),
  createdAt: Timestamp(),
  updatedAt: Timestamp(),
});
export type Organization = Static<typeof Organization>;

export const CreateOrganizationInput = Type.Object(
  {
    organizationName: native.name,
    domain: native.domain,
  },
  { additionalProperties: false },
);

export const UpdateOrganizationInput = Type.Object(
  {
    organizationName: Type.Optional(native.name),
    name: Type.Optional(native.name),
    domain: native.domain,
    friendlyName: native.friendly_name,
    description: native.description,
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The fields given change; the others keep their values. Null clears a nullable field.',
  },
);
export type UpdateOrganizationInput = Static<typeof UpdateOrganizationInput>;

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({
      ...PageQuery.limit,
      default: 100,
      description: 'At most this many organizations (1 to 100).',
    }),
    offset: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: 'Organizations skipped.',
    }),
  },
  { additionalProperties: false },
);

const MaxOverage = Decimal(
  'How far past its monthly budget billable usage may go, as a decimal string ("250.50") or a JSON number (read digit for digit).',
);

export const MaxOverageInput = Type.Object(
  { maxOverage: Type.Optional(MaxOverage), max_overage: Type.Optional(MaxOverage) },
  { additionalProperties: false, description: 'Exactly one of `maxOverage` and `max_overage`.' },
);
export type MaxOverageInput = Static<typeof MaxOverageInput>;

/** The overage configuration: the organization's budget terms, in camelCase. */
export const OverageConfig = Type.Object({
  organizationId: Uuid(),
  maxOverage: Type.String({ description: 'Exact decimal allowed past `monthlyLimit`.' }),
  monthlyLimit: Nullable(Type.String(), 'Exact decimal; null: no limit.'),
  ceiling: Nullable(Type.String(), '`monthlyLimit + maxOverage`: billable usage past it is refused.'),
  currency: Type.String(),
  period: Type.String({ description: 'The current calendar month (UTC), e.g. `2026-12`.' }),
  periodCost: Type.String({ description: 'Billable cost of the organization and its teams this month.' }),
  updatedAt: NullableTimestamp(),
});

export const OrgParams = Type.Object({ organization_id: OrganizationRef });
export const MemberParams = Type.Object({ organization_id: OrganizationRef, user_id: Uuid() });

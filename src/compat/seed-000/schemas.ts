import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Nullable, OrganizationRef, Timestamp, Uuid } from '../../http/schemas.js';
import { CreateOrganizationBody, UpdateOrganizationBody } from '../../modules/organizations/schemas.js';
import { CostQuery, StorageType, StorageTypeCostSummary } from '../../modules/usage/schemas.js';

// Field rules (lengths, patterns) are the native ones, picked from the native schemas, so a value
// valid here is valid through /v1 and the reverse.
const created = CreateOrganizationBody.properties;
const editable = UpdateOrganizationBody.properties;

/** The organization as the seed names it: exactly these nine fields. */
export const Organization = Type.Object({
  billing_account_id: Nullable(Type.String()),
  connection_id: Nullable(Type.String()),
  created_at: Timestamp(),
  description: Nullable(Type.String()),
  friendly_name: Nullable(Type.String()),
  id: Uuid(),
  name: Type.String(),
  parent_organization_id: Nullable(Uuid()),
  updated_at: Timestamp(),
});

export const OrganizationList = Type.Object({
  organizations: Type.Array(Organization),
  limit: Type.Integer({ description: 'The page size used.' }),
  offset: Type.Integer({ description: 'Organizations skipped before this page.' }),
  has_more: Type.Boolean({ description: 'More organizations follow: ask again with `offset + limit`.' }),
});

const pageFields = {
  limit: Type.Integer({ ...PageQuery.limit, description: 'Organizations returned (1 to 100).' }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'Organizations skipped.' }),
  name_search: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'Only names containing this text (any case).' }),
  ),
};

export const ListOrganizationsQuery = Type.Object(
  {
    ...pageFields,
    no_children: Type.Boolean({
      default: false,
      description: 'Only organizations the caller belongs to directly, not their child organizations.',
    }),
    parent_organization_id: Type.Optional(Uuid('Only child organizations of this organization.')),
  },
  { additionalProperties: false },
);
export type ListOrganizationsQuery = Static<typeof ListOrganizationsQuery>;

export const ListChildrenQuery = Type.Object(pageFields, { additionalProperties: false });
export type ListChildrenQuery = Static<typeof ListChildrenQuery>;

export const CreateOrganizationInput = Type.Object(
  {
    name: created.name,
    billing_account_id: created.billing_account_id,
    description: created.description,
    friendly_name: created.friendly_name,
  },
  { additionalProperties: false },
);

export const UpdateOrganizationInput = Type.Object(
  { friendly_name: editable.friendly_name, description: editable.description },
  { additionalProperties: false, minProperties: 1 },
);

/** A team's update names its `friendly_name`, the seed says. */
export const UpdateChildInput = Type.Object(
  {
    ...Type.Required(Type.Pick(UpdateOrganizationBody, ['friendly_name'])).properties,
    description: editable.description,
  },
  { additionalProperties: false },
);

export const OrgParams = Type.Object({ organization_id: OrganizationRef });
export const ChildParams = Type.Object({
  organization_id: OrganizationRef,
  child_organization_id: OrganizationRef,
});
export const StorageTypeParams = Type.Object({ organization_id: OrganizationRef, storage_type: StorageType });

/** The native cost query without `include_children`: the seed counts the organization alone. */
export const StorageCostQuery = Type.Omit(CostQuery, ['include_children'], { additionalProperties: false });
export type StorageCostQuery = Static<typeof StorageCostQuery>;

/** The native summary, named as natively, without the `include_children` the seed has no use for. */
export const StorageCostSummary = Type.Omit(StorageTypeCostSummary, ['include_children']);

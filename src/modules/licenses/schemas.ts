import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Metadata, Nullable, NullableTimestamp, Timestamp, Uuid } from '../../http/schemas.js';

const PLAN_PATTERN = '^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$';
const FEATURE_PATTERN = '^[a-z][a-z0-9_.:-]{0,63}$';

const FeatureValue = Type.Union([Type.Boolean(), Type.Number(), Type.String({ maxLength: 200 })]);

/**
 * Features are a map from a feature name to its value: `true` for a switch, a number for a quota,
 * a string for a tier. A plain list of names is the special case where every value is `true`.
 */
export const Features = Type.Record(Type.String({ pattern: FEATURE_PATTERN }), FeatureValue, {
  maxProperties: 100,
  additionalProperties: false,
  description:
    'Feature name (lowercase letters, digits, `_ . : -`) to value: `true` for a switch, a number for a quota.',
});
export type Features = Static<typeof Features>;

const Plan = Type.String({
  pattern: PLAN_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: 'Plan name, e.g. `pro` or `enterprise` (lowercase letters, digits, `-`, `_`).',
});

const Seats = Nullable(
  Type.Integer({ minimum: 1, maximum: 10_000_000 }),
  'Seats the license grants: distinct users holding a membership in what it covers; null is unlimited.',
);

export const License = Type.Object(
  {
    id: Uuid(),
    name: Nullable(Type.String()),
    plan: Type.String(),
    seats: Nullable(Type.Integer()),
    features: Features,
    expires_at: NullableTimestamp('After this time the license counts as the free plan; null: never.'),
    expired: Type.Boolean(),
    metadata: Metadata,
    organization_id: Nullable(Uuid(), 'The organization the license is assigned to, if any.'),
    assigned_at: NullableTimestamp(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
    deleted_at: NullableTimestamp(),
  },
  { $id: 'License' },
);
export type License = Static<typeof License>;

const fields = {
  name: Nullable(Type.String({ minLength: 1, maxLength: 200 })),
  plan: Plan,
  seats: Seats,
  features: Features,
  expires_at: Nullable(Type.String({ format: 'date-time', description: 'RFC 3339; null: never expires.' })),
  metadata: Metadata,
};

export const CreateLicenseBody = Type.Object(
  {
    plan: fields.plan,
    seats: fields.seats,
    features: Type.Optional(fields.features),
    expires_at: Type.Optional(fields.expires_at),
    metadata: Type.Optional(fields.metadata),
    name: Type.Optional(fields.name),
  },
  { additionalProperties: false },
);
export type CreateLicenseBody = Static<typeof CreateLicenseBody>;

export const UpdateLicenseBody = Type.Object(
  {
    plan: Type.Optional(fields.plan),
    seats: Type.Optional(fields.seats),
    features: Type.Optional(fields.features),
    expires_at: Type.Optional(fields.expires_at),
    metadata: Type.Optional(fields.metadata),
    name: Type.Optional(fields.name),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateLicenseBody = Static<typeof UpdateLicenseBody>;

export const ListLicensesQuery = Type.Object(
  {
    ...PageQuery,
    plan: Type.Optional(Plan),
    assigned: Type.Optional(Type.Boolean({ description: 'Only licenses assigned (true) or not (false).' })),
    expired: Type.Optional(Type.Boolean({ description: 'Only expired (true) or unexpired (false) ones.' })),
    organization_id: Type.Optional(Uuid('Only the license assigned to this organization.')),
    include_deleted: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type ListLicensesQuery = Static<typeof ListLicensesQuery>;

export const LicenseQuery = Type.Object(
  { include_deleted: Type.Boolean({ default: false }) },
  { additionalProperties: false },
);

export const LicenseParams = Type.Object({ license_id: Uuid('License id.') });

/** What an organization holds itself: its license, or the free plan when it has none. */
export const OrganizationLicense = Type.Object(
  {
    organization_id: Uuid(),
    license_id: Nullable(Uuid(), 'Null: no license is assigned and the organization is on the free plan.'),
    plan: Type.String({ description: '`free` when no license is assigned.' }),
    name: Nullable(Type.String()),
    seats: Nullable(Type.Integer(), 'Seats of the license, or of the free plan; null is unlimited.'),
    features: Features,
    expires_at: NullableTimestamp(),
    expired: Type.Boolean({ description: 'An expired license counts as the free plan.' }),
    assigned_at: NullableTimestamp(),
  },
  { $id: 'OrganizationLicense' },
);
export type OrganizationLicense = Static<typeof OrganizationLicense>;

export const AssignLicenseBody = Type.Object(
  { license_id: Uuid('An unassigned license, or the one the organization already holds.') },
  { additionalProperties: false },
);
export type AssignLicenseBody = Static<typeof AssignLicenseBody>;

/** What applies to an organization: the plan of the nearest licensed organization on its path. */
export const Entitlements = Type.Object(
  {
    organization_id: Uuid(),
    plan: Type.String({ description: 'The effective plan: `free` without a live license.' }),
    license_id: Nullable(Uuid(), 'The license that covers the organization (even if it expired).'),
    source_organization_id: Uuid(
      'Where the plan comes from: the nearest organization on the path holding a license, else the root.',
    ),
    inherited: Type.Boolean({ description: 'True when the plan comes from an ancestor.' }),
    seats: Nullable(Type.Integer(), 'Seats of the effective plan; null is unlimited.'),
    seats_used: Type.Integer({ description: 'Distinct users holding a membership in what the plan covers.' }),
    seats_available: Nullable(Type.Integer(), 'Seats left (never below 0); null is unlimited.'),
    features: Features,
    expires_at: NullableTimestamp(),
    expired: Type.Boolean(),
  },
  { $id: 'Entitlements' },
);
export type Entitlements = Static<typeof Entitlements>;

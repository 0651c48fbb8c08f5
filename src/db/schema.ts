import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
};

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name'),
    externalId: text('external_id'),
    metadata: jsonb('metadata').notNull().default({}),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    // Emails are unique case-insensitively, among users that still exist.
    uniqueIndex('users_email_live_key').on(sql`lower(${t.email})`).where(sql`${t.deletedAt} is null`),
    uniqueIndex('users_external_id_live_key').on(t.externalId).where(sql`${t.deletedAt} is null`),
    // A JWT whose `sub` belonged to a deleted user is refused, not given a new user: one probe.
    index('users_external_id_deleted_idx').on(t.externalId).where(sql`${t.deletedAt} is not null`),
    // Member search (`search`: a substring of the email or name, any case) finds rare matches
    // among many members through these instead of reading every membership.
    index('users_email_trgm_idx').using('gin', sql`${t.email} gin_trgm_ops`),
    index('users_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
  ],
);

export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey(),
    // Every tenant-owned row carries its root organization so tables can be sharded by tenant.
    rootId: uuid('root_id').notNull(),
    parentId: uuid('parent_id'),
    // Ancestors from the root down to the parent: access checks and subtree queries are one index probe.
    ancestorIds: uuid('ancestor_ids').array().notNull().default(sql`'{}'::uuid[]`),
    // Children ever attached and not moved away (deleted ones too): lets a user's organization
    // list skip the subtree lookup for the many organizations that have no teams.
    childCount: integer('child_count').notNull().default(0),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    friendlyName: text('friendly_name'),
    description: text('description'),
    domain: text('domain'),
    logoMediaId: text('logo_media_id'),
    billingAccountId: text('billing_account_id'),
    connectionId: text('connection_id'),
    active: boolean('active').notNull().default(true),
    settings: jsonb('settings').notNull().default({}),
    metadata: jsonb('metadata').notNull().default({}),
    // Readable by every member; private_metadata only by admins (src/modules/organizations/present.ts).
    publicMetadata: jsonb('public_metadata').notNull().default({}),
    privateMetadata: jsonb('private_metadata').notNull().default({}),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
    // Shared by every row one delete removed, so a restore brings back exactly that set.
    deletionId: uuid('deletion_id'),
  },
  (t) => [
    uniqueIndex('organizations_slug_live_key').on(t.slug).where(sql`${t.deletedAt} is null`),
    index('organizations_parent_idx').on(t.parentId, t.id),
    index('organizations_ancestors_idx').using('gin', t.ancestorIds),
    index('organizations_name_trgm_idx').using('gin', sql`${t.name} gin_trgm_ops`),
    index('organizations_deletion_idx').on(t.deletionId),
    // List filters `metadata[key]=value` and `public_metadata[key]=value` are containment (@>) probes.
    index('organizations_metadata_idx').using('gin', sql`${t.metadata} jsonb_path_ops`),
    index('organizations_public_metadata_idx').using('gin', sql`${t.publicMetadata} jsonb_path_ops`),
    foreignKey({ name: 'organizations_parent_fk', columns: [t.parentId], foreignColumns: [t.id] }),
  ],
);

/**
 * A custom role of an organization: a base built-in role plus permissions from the published list
 * (src/modules/roles/permissions.ts). Held in the organization and its teams. The key is unique
 * among the organization's live roles; deletes are soft and refused while anything uses the role.
 */
export const roles = pgTable(
  'roles',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    key: text('key').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    baseRole: text('base_role').notNull(),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('roles_key_live_key').on(t.organizationId, t.key).where(sql`${t.deletedAt} is null`),
    index('roles_org_idx').on(t.organizationId, t.id),
    check('roles_base_role_check', sql`${t.baseRole} in ('admin', 'member', 'viewer')`),
  ],
);

export const memberships = pgTable(
  'memberships',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    rootId: uuid('root_id').notNull(),
    // The built-in rank (a custom role's base role), so the access check stays one cheap subquery.
    role: text('role').notNull(),
    publicMetadata: jsonb('public_metadata').notNull().default({}),
    privateMetadata: jsonb('private_metadata').notNull().default({}),
    // Set when the member holds a custom role; `role` is then that role's base role.
    customRoleId: uuid('custom_role_id').references(() => roles.id),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId] }),
    index('memberships_user_idx').on(t.userId, t.organizationId),
    index('memberships_org_role_idx').on(t.organizationId, t.role),
    index('memberships_custom_role_idx').on(t.customRoleId).where(sql`${t.customRoleId} is not null`),
    check('memberships_role_check', sql`${t.role} in ('owner', 'admin', 'member', 'viewer')`),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    name: text('name'),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    userId: uuid('user_id').references(() => users.id),
    organizationId: uuid('organization_id').references(() => organizations.id),
    rootId: uuid('root_id'),
    scopes: text('scopes').array().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    createdByKeyId: uuid('created_by_key_id'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('api_keys_hash_key').on(t.keyHash),
    index('api_keys_user_idx').on(t.userId, t.id),
    index('api_keys_org_idx').on(t.organizationId, t.id),
    check('api_keys_kind_check', sql`${t.kind} in ('admin', 'personal', 'organization')`),
    check(
      'api_keys_owner_check',
      sql`(${t.kind} = 'admin' and ${t.userId} is null and ${t.organizationId} is null)
        or (${t.kind} = 'personal' and ${t.userId} is not null and ${t.organizationId} is null)
        or (${t.kind} = 'organization' and ${t.organizationId} is not null and ${t.userId} is null)`,
    ),
  ],
);

/**
 * Every organization each user reaches: their memberships and all descendants of them. Derived
 * from memberships and the tree, maintained with them (src/modules/members/reach.ts), so listing a
 * user's organizations is one index range however many they reach.
 */
export const userOrganizations = pgTable(
  'user_organizations',
  {
    userId: uuid('user_id').notNull(),
    organizationId: uuid('organization_id').notNull(),
    rootId: uuid('root_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.organizationId] }),
    index('user_organizations_org_idx').on(t.organizationId),
  ],
);

/**
 * The first answer to each `Idempotency-Key`, per caller, kept for 24 hours so a retried write is
 * answered again instead of done twice (src/http/idempotency.ts).
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    callerScope: text('caller_scope').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    state: text('state').notNull(),
    statusCode: integer('status_code'),
    responseBody: text('response_body'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.callerScope, t.key] }),
    index('idempotency_keys_expiry_idx').on(t.expiresAt),
    // started: claimed, nothing committed yet; committed: the change committed, its answer not yet
    // kept; completed: the answer is kept.
    check('idempotency_keys_state_check', sql`${t.state} in ('started', 'committed', 'completed')`),
  ],
);

/** Who changed what, when and through which request. Written in the transaction of the change; never updated. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: uuid('id').primaryKey(),
    // Null for instance-level events (users, admin keys) that belong to no organization.
    rootId: uuid('root_id'),
    organizationId: uuid('organization_id'),
    action: text('action').notNull(),
    actorKind: text('actor_kind').notNull(),
    actorUserId: uuid('actor_user_id'),
    actorKeyId: uuid('actor_key_id'),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    changes: jsonb('changes').notNull().default({}),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_org_idx').on(t.organizationId, t.id),
    index('audit_events_root_idx').on(t.rootId, t.id),
    index('audit_events_target_idx').on(t.targetId, t.id),
  ],
);

/** Where events are sent. No organization: every event (admin keys only); else that organization's subtree. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey(),
    rootId: uuid('root_id'),
    organizationId: uuid('organization_id').references(() => organizations.id),
    url: text('url').notNull(),
    description: text('description'),
    // Empty: every event type.
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    secret: text('secret').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    ...timestamps,
  },
  (t) => [index('webhook_endpoints_org_idx').on(t.organizationId, t.id)],
);

/**
 * One event to one endpoint: the outbox. Rows are written in the transaction of the change
 * (with its audit event) and worked off by the delivery worker of any instance.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    rootId: uuid('root_id'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.endpointId, t.eventId] }),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    check('webhook_deliveries_status_check', sql`${t.status} in ('pending', 'succeeded', 'failed')`),
  ],
);

/** Every attempt at a delivery, kept so an operator can see what the receiver answered. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: uuid('id').primaryKey(),
    endpointId: uuid('endpoint_id').notNull(),
    eventId: uuid('event_id').notNull(),
    attempt: integer('attempt').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('webhook_attempts_delivery_idx').on(t.endpointId, t.eventId, t.attempt),
    foreignKey({
      name: 'webhook_attempts_delivery_fk',
      columns: [t.endpointId, t.eventId],
      foreignColumns: [webhookDeliveries.endpointId, webhookDeliveries.eventId],
    }).onDelete('cascade'),
  ],
);

/** A project of an organization (seed 001). Name and slug are unique among its live projects. */
export const projects = pgTable(
  'projects',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    description: text('description'),
    metadata: jsonb('metadata').notNull().default({}),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('projects_slug_live_key').on(t.organizationId, t.slug).where(sql`${t.deletedAt} is null`),
    uniqueIndex('projects_name_live_key')
      .on(t.organizationId, sql`lower(${t.name})`)
      .where(sql`${t.deletedAt} is null`),
    index('projects_org_idx').on(t.organizationId, t.id),
  ],
);

/**
 * A license the operator sells: plan, seats (null: unlimited), features, expiry. It belongs to the
 * instance, like a user, and serves at most one organization at a time (`organization_id`); the
 * partial unique index keeps an organization to one license. Deleting one unassigns it.
 */
export const licenses = pgTable(
  'licenses',
  {
    id: uuid('id').primaryKey(),
    name: text('name'),
    plan: text('plan').notNull(),
    seats: integer('seats'),
    features: jsonb('features').notNull().default({}),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    metadata: jsonb('metadata').notNull().default({}),
    organizationId: uuid('organization_id').references(() => organizations.id),
    assignedAt: timestamp('assigned_at', { withTimezone: true, precision: 3 }),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('licenses_organization_key').on(t.organizationId).where(sql`${t.organizationId} is not null`),
    index('licenses_plan_idx').on(t.plan, t.id),
    check('licenses_seats_check', sql`${t.seats} is null or ${t.seats} > 0`),
    check(
      'licenses_assignment_check',
      sql`(${t.organizationId} is null) = (${t.assignedAt} is null)
        and (${t.deletedAt} is null or ${t.organizationId} is null)`,
    ),
  ],
);

/**
 * An installation running under a license, registered and kept fresh by heartbeats. It records
 * the organization that held the license when it last reported, so a license handed to another
 * organization does not show that organization the previous holder's installations.
 */
export const deployments = pgTable(
  'deployments',
  {
    id: uuid('id').primaryKey(),
    licenseId: uuid('license_id')
      .notNull()
      .references(() => licenses.id),
    organizationId: uuid('organization_id').references(() => organizations.id),
    rootId: uuid('root_id'),
    name: text('name').notNull(),
    version: text('version').notNull(),
    hostname: text('hostname'),
    metadata: jsonb('metadata').notNull().default({}),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('deployments_name_live_key').on(t.licenseId, t.name).where(sql`${t.deletedAt} is null`),
    index('deployments_license_idx').on(t.licenseId, t.id),
    index('deployments_org_idx').on(t.organizationId, t.licenseId, t.id),
  ],
);

/**
 * A connection between an organization and an outside service (seed 002: Vercel, AWS Marketplace,
 * ...). Secret values are sealed before they reach the database (src/secrets/keyring.ts); a
 * disconnected integration stays for the audit trail with its secrets erased.
 */
export const organizationIntegrations = pgTable(
  'organization_integrations',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    kind: text('kind').notNull(),
    externalId: text('external_id').notNull(),
    displayName: text('display_name'),
    config: jsonb('config').notNull().default({}),
    // Secret name -> sealed value. Reads select only the names.
    sealedSecrets: jsonb('sealed_secrets').notNull().default({}),
    secretsUpdatedAt: timestamp('secrets_updated_at', { withTimezone: true, precision: 3 }),
    // External environment name -> project id of the same organization.
    environmentMapping: jsonb('environment_mapping').notNull().default({}),
    createdByUserId: uuid('created_by_user_id'),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('organization_integrations_external_id_live_key')
      .on(t.organizationId, t.kind, t.externalId)
      .where(sql`${t.deletedAt} is null`),
    index('organization_integrations_org_idx').on(t.organizationId, t.id),
    check('organization_integrations_kind_check', sql`${t.kind} ~ '^[a-z][a-z0-9_]{0,63}$'`),
  ],
);

/**
 * One accepted usage batch. The `Idempotency-Key` it came with is stored in the transaction that
 * stores the batch, behind a unique index, so a retry is answered with this row even when the
 * process died before the generic idempotency record was written.
 */
export const usageBatches = pgTable(
  'usage_batches',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    // SHA-256 of the records as sent, so a key reused for other records is refused.
    fingerprint: text('fingerprint').notNull(),
    recordCount: integer('record_count').notNull(),
    totalCost: numeric('total_cost').notNull(),
    totalBytes: bigint('total_bytes', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('usage_batches_idempotency_key')
      .on(t.organizationId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
);

/**
 * Usage records as ingested: the ledger the rollups are derived from. Summaries never read it.
 * No foreign keys: a batch of 10,000 rows would pay 10,000 lookups, and rows are only ever
 * written by the transaction that writes their batch.
 */
export const usageRecords = pgTable(
  'usage_records',
  {
    batchId: uuid('batch_id').notNull(),
    // Position in the batch (1-based), so a record is named by (batch_id, seq).
    seq: integer('seq').notNull(),
    organizationId: uuid('organization_id').notNull(),
    rootId: uuid('root_id').notNull(),
    storageType: text('storage_type').notNull(),
    pipelineId: text('pipeline_id'),
    billingType: text('billing_type').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    cost: numeric('cost').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.batchId, t.seq] }),
    check('usage_records_billing_type_check', sql`${t.billingType} in ('billable', 'non_billable')`),
    check('usage_records_amounts_check', sql`${t.bytes} >= 0 and ${t.cost} >= 0`),
  ],
);

/** What every usage rollup adds up, and the root it is sharded by. */
const usageAmounts = {
  rootId: uuid('root_id').notNull(),
  bytes: bigint('bytes', { mode: 'number' }).notNull(),
  cost: numeric('cost').notNull(),
  recordCount: bigint('record_count', { mode: 'number' }).notNull(),
};

/**
 * Usage rollups, upserted in the transaction of each batch; cost summaries read these, never the
 * records. Three grains, so a long range reads few rows however many pipelines there are:
 * per pipeline and hour (this table: pipeline filters and the partial days at a range's edges),
 * every pipeline together per hour (`usage_hourly_totals`: totals and `by_hour`) and per pipeline
 * and day (`usage_daily`: `by_pipeline` over whole days). `pipeline_id` is '' for usage without a
 * pipeline (a primary key column cannot be null).
 */
export const usageHourly = pgTable(
  'usage_hourly',
  {
    organizationId: uuid('organization_id').notNull(),
    storageType: text('storage_type').notNull(),
    hour: timestamp('hour', { withTimezone: true, precision: 3 }).notNull(),
    billingType: text('billing_type').notNull(),
    pipelineId: text('pipeline_id').notNull(),
    ...usageAmounts,
  },
  (t) => [
    // One storage type over a range of hours is one range of this key.
    primaryKey({
      name: 'usage_hourly_pk',
      columns: [t.organizationId, t.storageType, t.hour, t.billingType, t.pipelineId],
    }),
    // Every storage type over a range of hours, for one pipeline.
    index('usage_hourly_org_hour_idx').on(t.organizationId, t.hour),
  ],
);

/** Usage per hour with every pipeline added together (see `usage_hourly`). */
export const usageHourlyTotals = pgTable(
  'usage_hourly_totals',
  {
    organizationId: uuid('organization_id').notNull(),
    storageType: text('storage_type').notNull(),
    hour: timestamp('hour', { withTimezone: true, precision: 3 }).notNull(),
    billingType: text('billing_type').notNull(),
    ...usageAmounts,
  },
  (t) => [
    primaryKey({
      name: 'usage_hourly_totals_pk',
      columns: [t.organizationId, t.storageType, t.hour, t.billingType],
    }),
    index('usage_hourly_totals_org_hour_idx').on(t.organizationId, t.hour),
  ],
);

/** Usage per pipeline and calendar day (UTC) (see `usage_hourly`). */
export const usageDaily = pgTable(
  'usage_daily',
  {
    organizationId: uuid('organization_id').notNull(),
    storageType: text('storage_type').notNull(),
    day: timestamp('day', { withTimezone: true, precision: 3 }).notNull(),
    billingType: text('billing_type').notNull(),
    pipelineId: text('pipeline_id').notNull(),
    ...usageAmounts,
  },
  (t) => [
    primaryKey({
      name: 'usage_daily_pk',
      columns: [t.organizationId, t.storageType, t.day, t.billingType, t.pipelineId],
    }),
  ],
);

/**
 * Billable cost per organization and calendar month (UTC), its teams' usage included: each batch
 * adds to the row of its organization and of every ancestor, so a budget check reads one row per
 * level of the tree instead of summing usage.
 */
export const usageMonthTotals = pgTable(
  'usage_month_totals',
  {
    organizationId: uuid('organization_id').notNull(),
    month: date('month').notNull(),
    rootId: uuid('root_id').notNull(),
    billableCost: numeric('billable_cost').notNull(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.month] })],
);

/**
 * A monthly budget and the overage allowed past it. No `monthly_limit`: nothing is enforced.
 * Usage that would take a month's billable cost past `monthly_limit + max_overage` is refused.
 */
export const budgets = pgTable(
  'budgets',
  {
    organizationId: uuid('organization_id')
      .primaryKey()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    monthlyLimit: numeric('monthly_limit'),
    currency: text('currency').notNull().default('USD'),
    maxOverage: numeric('max_overage').notNull().default('0'),
    ...timestamps,
  },
  (t) => [check('budgets_amounts_check', sql`${t.monthlyLimit} >= 0 and ${t.maxOverage} >= 0`)],
);

/**
 * An invitation of one email address to an organization with a role. Only the SHA-256 hash of its
 * token is stored. `status` is stored as pending, accepted, revoked or expired; a pending one past
 * `expires_at` is presented as expired, and is stored as expired once a new invitation replaces it.
 */
export const invitations = pgTable(
  'invitations',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    email: text('email').notNull(),
    role: text('role').notNull(),
    // Set for a custom role: `role` is then its key as it was named, the grant reads the role itself.
    customRoleId: uuid('custom_role_id').references(() => roles.id),
    status: text('status').notNull().default('pending'),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    inviterUserId: uuid('inviter_user_id'),
    inviterKeyId: uuid('inviter_key_id'),
    acceptedAt: timestamp('accepted_at', { withTimezone: true, precision: 3 }),
    acceptedByUserId: uuid('accepted_by_user_id').references(() => users.id),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    // At most one pending invitation per email and organization.
    uniqueIndex('invitations_pending_key')
      .on(t.organizationId, sql`lower(${t.email})`)
      .where(sql`${t.status} = 'pending'`),
    index('invitations_org_idx').on(t.organizationId, t.id),
    index('invitations_pending_email_idx')
      .on(sql`lower(${t.email})`, t.id)
      .where(sql`${t.status} = 'pending'`),
    check('invitations_status_check', sql`${t.status} in ('pending', 'accepted', 'revoked', 'expired')`),
    // A JWT caller acts without a key; an organization or admin key without a user.
    check('invitations_inviter_check', sql`${t.inviterUserId} is not null or ${t.inviterKeyId} is not null`),
  ],
);

/**
 * A shareable link that admits any user who is not yet a member, with a role, until it expires,
 * is revoked or has been used `max_uses` times (null: no cap). Only its token's hash is stored.
 */
export const inviteLinks = pgTable(
  'invite_links',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    rootId: uuid('root_id').notNull(),
    role: text('role').notNull(),
    // Set for a custom role: `role` is then its key as it was named, the grant reads the role itself.
    customRoleId: uuid('custom_role_id').references(() => roles.id),
    tokenHash: text('token_hash').notNull(),
    maxUses: integer('max_uses'),
    uses: integer('uses').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    creatorUserId: uuid('creator_user_id'),
    creatorKeyId: uuid('creator_key_id'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('invite_links_token_hash_key').on(t.tokenHash),
    index('invite_links_org_idx').on(t.organizationId, t.id),
    check('invite_links_creator_check', sql`${t.creatorUserId} is not null or ${t.creatorKeyId} is not null`),
    check(
      'invite_links_uses_check',
      sql`${t.uses} >= 0 and (${t.maxUses} is null or (${t.maxUses} >= 1 and ${t.uses} <= ${t.maxUses}))`,
    ),
  ],
);

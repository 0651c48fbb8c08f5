import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
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
    check('idempotency_keys_state_check', sql`${t.state} in ('started', 'completed')`),
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

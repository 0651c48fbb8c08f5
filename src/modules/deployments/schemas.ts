import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Metadata, Nullable, NullableTimestamp, Timestamp, Uuid } from '../../http/schemas.js';

export const Deployment = Type.Object(
  {
    id: Uuid(),
    license_id: Uuid(),
    organization_id: Nullable(
      Uuid(),
      'The organization holding the license when the deployment last reported.',
    ),
    name: Type.String(),
    version: Type.String(),
    hostname: Nullable(Type.String()),
    metadata: Metadata,
    last_seen_at: Timestamp(),
    created_at: Timestamp(),
    updated_at: Timestamp(),
    deleted_at: NullableTimestamp(),
  },
  { $id: 'Deployment' },
);
export type Deployment = Static<typeof Deployment>;

export const ReportDeploymentBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Names the installation within the license: the same name again is a heartbeat.',
    }),
    version: Type.String({ minLength: 1, maxLength: 100 }),
    hostname: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 253 }))),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type ReportDeploymentBody = Static<typeof ReportDeploymentBody>;

export const ListDeploymentsQuery = Type.Object(
  {
    ...PageQuery,
    seen_since: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only deployments seen at or after this time.' }),
    ),
    not_seen_since: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only deployments silent since this time.' }),
    ),
    include_deleted: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type ListDeploymentsQuery = Static<typeof ListDeploymentsQuery>;

export const DeploymentParams = Type.Object({ license_id: Uuid('License id.'), deployment_id: Uuid() });

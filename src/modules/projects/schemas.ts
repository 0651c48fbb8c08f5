import { type Static, Type } from 'typebox';
import { PageQuery } from '../../http/pagination.js';
import { Metadata, Nullable, NullableTimestamp, SLUG_PATTERN, Timestamp, Uuid } from '../../http/schemas.js';

export const Project = Type.Object(
  {
    id: Uuid(),
    organization_id: Uuid(),
    name: Type.String(),
    slug: Type.String(),
    description: Nullable(Type.String()),
    metadata: Metadata,
    created_at: Timestamp(),
    updated_at: Timestamp(),
    deleted_at: NullableTimestamp(),
  },
  { $id: 'Project' },
);
export type Project = Static<typeof Project>;

const fields = {
  name: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Unique among the live projects of the organization.',
  }),
  slug: Type.String({
    pattern: SLUG_PATTERN,
    minLength: 1,
    maxLength: 64,
    description: 'Unique in the organization; generated from the name when absent.',
  }),
  description: Nullable(Type.String({ maxLength: 2000 })),
  metadata: Metadata,
};

export const CreateProjectBody = Type.Object(
  {
    name: fields.name,
    slug: Type.Optional(fields.slug),
    description: Type.Optional(fields.description),
    metadata: Type.Optional(fields.metadata),
  },
  { additionalProperties: false },
);
export type CreateProjectBody = Static<typeof CreateProjectBody>;

export const UpdateProjectBody = Type.Object(
  {
    name: Type.Optional(fields.name),
    slug: Type.Optional(fields.slug),
    description: Type.Optional(fields.description),
    metadata: Type.Optional(fields.metadata),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProjectBody = Static<typeof UpdateProjectBody>;

export const ListProjectsQuery = Type.Object(
  {
    ...PageQuery,
    name_search: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    include_deleted: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type ListProjectsQuery = Static<typeof ListProjectsQuery>;

export const ProjectQuery = Type.Object(
  { include_deleted: Type.Boolean({ default: false }) },
  { additionalProperties: false },
);
export type ProjectQuery = Static<typeof ProjectQuery>;

/** `{project_id}` in a path: a project id or its slug. */
export const ProjectRef = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: `(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)|(${SLUG_PATTERN})`,
  description: 'Project id or slug.',
});

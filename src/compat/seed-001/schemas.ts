import { type Static, Type } from 'typebox';
import { Page } from '../../http/pagination.js';
import { NullableTimestamp, SLUG_PATTERN, Timestamp, UUID_PATTERN, Uuid } from '../../http/schemas.js';

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });

/** An organization as this API answers it: the seed's five fields, and when it was deleted. */
export const AdminOrganization = Type.Object({
  created_at: Timestamp(),
  id: Uuid(),
  name: Type.String(),
  slug: Type.String(),
  updated_at: Timestamp(),
  deleted_at: NullableTimestamp('Set on organizations listed with `include_deleted=true`; null otherwise.'),
});

export const AdminOrganizationPage = Page(AdminOrganization);

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 100,
      description: 'Maximum number of results to return (1 to 100).',
    }),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Cursor for keyset pagination, as a previous page gave it out. Encoded as base64 string.',
      }),
    ),
    direction: Type.Union([Type.Literal('forward'), Type.Literal('backward')], {
      default: 'forward',
      description: 'Pagination direction: "forward" (default) or "backward".',
    }),
    include_deleted: Type.Boolean({
      default: false,
      description: 'Include soft-deleted records in results.',
    }),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const CreateBody = Type.Object(
  {
    name: Name('Display name.'),
    slug: Type.String({
      pattern: SLUG_PATTERN,
      minLength: 1,
      maxLength: 64,
      description: 'URL-friendly identifier (lowercase alphanumeric with hyphens).',
    }),
  },
  { additionalProperties: false },
);

export const UpdateBody = Type.Object(
  { name: Type.Optional(Name('New display name.')) },
  { additionalProperties: false },
);

export const SlugParams = Type.Object({
  slug: Type.String({
    pattern: `(${UUID_PATTERN})|(${SLUG_PATTERN})`,
    minLength: 1,
    maxLength: 64,
    description: 'Organization slug (its id works too).',
  }),
});

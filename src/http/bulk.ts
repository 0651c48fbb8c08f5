import { type Static, Type } from 'typebox';
import { ApiError } from './errors.js';
import { Nullable } from './schemas.js';

/*
 * Bulk requests answer 200 with one result per entry, in the order sent. The request as a whole
 * is refused (4xx, nothing changed) only when it cannot be run at all: bad shape, no access. An
 * entry refused on its own carries the error it would have had as a single request, and a
 * `status` that sums it up.
 */

export const BULK_MAX_ENTRIES = 1000;

export const BulkEntryError = Type.Object({
  code: Type.String({ description: 'The error code a single request would have answered with.' }),
  message: Type.String(),
  param: Nullable(Type.String(), 'The offending field, e.g. `members.3.email`.'),
});
export type BulkEntryError = Static<typeof BulkEntryError>;

export const BulkStatus = Type.Union(
  [
    Type.Literal('created'),
    Type.Literal('already_member'),
    Type.Literal('already_invited'),
    Type.Literal('duplicate'),
    Type.Literal('seat_limit_reached'),
    Type.Literal('invalid'),
  ],
  {
    description:
      '`created`, or why not: `already_member`, `already_invited` (invitations), `duplicate` (an earlier ' +
      'entry names the same person), `seat_limit_reached` (no seat left), `invalid` (see `error`).',
  },
);
export type BulkStatus = Static<typeof BulkStatus>;

/** Error codes that are a status of their own; any other refusal of an entry is `invalid`. */
const NAMED_STATUS: Record<string, BulkStatus> = {
  already_member: 'already_member',
  already_invited: 'already_invited',
  seat_limit_reached: 'seat_limit_reached',
  duplicate_entry: 'duplicate',
};

export function bulkStatus(error: ApiError): BulkStatus {
  return NAMED_STATUS[error.code] ?? 'invalid';
}

export function presentEntryError(error: ApiError): BulkEntryError {
  return { code: error.code, message: error.message, param: error.param };
}

/** Entry `i` repeats an earlier one. */
export const duplicateEntry = (param: string, first: number) =>
  new ApiError('duplicate_entry', `Repeats entry ${first} of this request; only the first counts.`, param);

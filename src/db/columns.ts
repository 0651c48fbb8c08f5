/**
 * A timestamp column selected as RFC 3339 text in UTC (`2026-01-02T03:04:05.678Z`), the API's
 * format: the database formats it once instead of the driver building a Date to be formatted again.
 */
export const isoColumn = (column: string, as = column.split('.').pop()!) => `${isoText(column)} as ${as}`;

/** The expression alone, for use inside other expressions. */
export const isoText = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Moves `updated_at` forward by at least a millisecond, so two writes in the same millisecond
 * still leave different versions: entity tags (http/preconditions.ts) are derived from it.
 */
export const touchUpdatedAt = (table?: string) => {
  const column = table ? `${table}.updated_at` : 'updated_at';
  return `updated_at = greatest(now(), ${column} + interval '1 millisecond')`;
};

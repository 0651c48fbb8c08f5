/**
 * A timestamp column selected as RFC 3339 text in UTC (`2026-01-02T03:04:05.678Z`), the API's
 * format: the database formats it once instead of the driver building a Date to be formatted again.
 */
export const isoColumn = (column: string, as = column.split('.').pop()!) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${as}`;

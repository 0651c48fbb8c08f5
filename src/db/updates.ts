import { touchUpdatedAt } from './columns.js';
/**
 * The SET list of an UPDATE from the fields a request changed: only columns named in `columns`
 * (API field -> column, with a cast where one is needed), skipping undefined values, always
 * touching `updated_at`. Values are pushed to `params`.
 */
export function setClause(
  changes: Record<string, unknown>,
  columns: Record<string, { column: string; cast?: string }>,
  params: unknown[],
): string {
  const sets: string[] = [];
  for (const [field, value] of Object.entries(changes)) {
    const target = columns[field];
    if (!target || value === undefined) continue;
    params.push(value);
    sets.push(`${target.column} = $${params.length}${target.cast ? `::${target.cast}` : ''}`);
  }
  sets.push(touchUpdatedAt());
  return sets.join(', ');
}

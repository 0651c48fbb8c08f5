import type { AppContext } from '../../context.js';
import { type PageRequest, toPage } from '../../http/pagination.js';
import { type Rendering, Renderings, renderingJson } from '../../http/renderings.js';
import { pageJson } from '../../http/serialization.js';
import { presentOrganization } from './present.js';
import {
  findVersionedOrganizations,
  listOrganizationVersions,
  type OrganizationFilter,
  type OrganizationRow,
} from './queries.js';

/** How many organizations a process keeps rendered: about a kilobyte each. */
const CAPACITY = 10_000;

/** Organizations as lists answer them, kept by version (http/renderings.ts). */
export class RenderedOrganizations extends Renderings<OrganizationRow & { version: string }> {
  constructor(capacity = CAPACITY) {
    super((row) => presentOrganization(row, false), capacity);
  }
}

/**
 * One page of organizations as JSON, what the `Page` schema would serialize: one statement for
 * the ids and versions, and a second only for rows not yet rendered at that version.
 */
export async function renderedPage(ctx: AppContext, filter: OrganizationFilter, page: PageRequest) {
  const kept = ctx.renderedOrganizations;
  const rows = await listOrganizationVersions(ctx.db, filter, page);
  const renderings = new Map<string, Rendering>();
  const missing: string[] = [];
  for (const row of rows) {
    const rendering = kept.find(row.id, row.version);
    if (rendering) renderings.set(row.id, rendering);
    else missing.push(row.id);
  }
  // A row changed since the list read it renders at its newer version: never an older one.
  if (missing.length > 0) {
    for (const row of await findVersionedOrganizations(ctx.db, missing))
      renderings.set(row.id, kept.keep(row.id, row));
  }
  const paged = toPage(
    rows,
    page,
    (row) => row.id,
    (row) => {
      const rendering = renderings.get(row.id);
      return rendering && renderingJson(rendering, row.private_readable);
    },
  );
  // Organizations are never removed, only marked deleted; a row gone all the same is left out.
  return pageJson({ data: paged.data.filter((json) => json !== undefined), pagination: paged.pagination });
}

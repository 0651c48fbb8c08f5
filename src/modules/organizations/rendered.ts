import type { AppContext } from '../../context.js';
import { type PageRequest, toPage } from '../../http/pagination.js';
import { pageJson } from '../../http/serialization.js';
import { presentOrganization } from './present.js';
import {
  findVersionedOrganizations,
  listOrganizationVersions,
  type OrganizationFilter,
  type OrganizationRow,
} from './queries.js';

interface Rendering {
  version: string;
  /** The organization as the API answers it, without `private_metadata`. */
  json: string;
  privateJson: string;
}

/** How many organizations a process keeps rendered: about a kilobyte each. */
const CAPACITY = 10_000;

/**
 * Organizations rendered as the API's JSON, each under the version (`updated_at`) it was rendered
 * from. Every write to an organization moves `updated_at` forward (db/columns.ts), so a list reads
 * only ids and versions, renders the few rows whose version it has not seen, and joins the rest
 * from here: parsing and serializing twenty rows of JSON documents per page is what bounds lists.
 * The version is read from the database on every list, so no instance serves a row older than
 * the one the database holds.
 */
export class RenderedOrganizations {
  private readonly entries = new Map<string, Rendering>();

  constructor(private readonly capacity = CAPACITY) {}

  find(id: string, version: string): Rendering | undefined {
    const rendering = this.entries.get(id);
    return rendering?.version === version ? rendering : undefined;
  }

  keep(row: OrganizationRow & { version: string }): Rendering {
    if (this.entries.size >= this.capacity && !this.entries.has(row.id)) {
      // Oldest first: a Map iterates in insertion order.
      this.entries.delete(this.entries.keys().next().value!);
    }
    const rendering = {
      version: row.version,
      json: JSON.stringify(presentOrganization(row, false)),
      privateJson: JSON.stringify(row.private_metadata),
    };
    this.entries.set(row.id, rendering);
    return rendering;
  }
}

/** The JSON of a rendering, with `private_metadata` when the caller may read it. */
function jsonOf(rendering: Rendering, privateReadable: boolean): string {
  if (!privateReadable) return rendering.json;
  return `${rendering.json.slice(0, -1)},"private_metadata":${rendering.privateJson}}`;
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
      renderings.set(row.id, kept.keep(row));
  }
  const paged = toPage(
    rows,
    page,
    (row) => row.id,
    (row) => {
      const rendering = renderings.get(row.id);
      return rendering && jsonOf(rendering, row.private_readable);
    },
  );
  // Organizations are never removed, only marked deleted; a row gone all the same is left out.
  return pageJson({ data: paged.data.filter((json) => json !== undefined), pagination: paged.pagination });
}

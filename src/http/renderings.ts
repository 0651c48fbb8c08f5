/** One row as the API answers it, under the version it was rendered from. */
export interface Rendering {
  version: string;
  /** The row's JSON without `private_metadata`. */
  json: string;
  /** Its `private_metadata`, spliced in for callers who may read it. */
  privateJson: string;
}

/**
 * Rows rendered as the API's JSON, each under the version it was rendered from. Every write moves
 * a row's `updated_at` forward (db/columns.ts), so a list reads only keys and versions, renders
 * the few rows whose version it has not seen, and joins the rest from here: parsing and
 * serializing twenty rows of JSON documents per page is what bounds lists. The version is read
 * from the database on every list, so no instance serves a row older than the database holds.
 * At most `capacity` rows are kept, the oldest forgotten first.
 */
export class Renderings<Row extends { version: string; private_metadata: unknown }> {
  private readonly entries = new Map<string, Rendering>();

  constructor(
    /** The row's API shape without `private_metadata`. */
    private readonly present: (row: Row) => object,
    private readonly capacity: number,
  ) {}

  find(key: string, version: string): Rendering | undefined {
    const rendering = this.entries.get(key);
    return rendering?.version === version ? rendering : undefined;
  }

  keep(key: string, row: Row): Rendering {
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      // A Map iterates in insertion order.
      this.entries.delete(this.entries.keys().next().value!);
    }
    const rendering = {
      version: row.version,
      json: JSON.stringify(this.present(row)),
      privateJson: JSON.stringify(row.private_metadata),
    };
    this.entries.set(key, rendering);
    return rendering;
  }
}

/** The JSON of a rendering, with `private_metadata` when the caller may read it. */
export function renderingJson(rendering: Rendering, privateReadable: boolean): string {
  if (!privateReadable) return rendering.json;
  return `${rendering.json.slice(0, -1)},"private_metadata":${rendering.privateJson}}`;
}

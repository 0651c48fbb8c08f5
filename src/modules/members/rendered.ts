import { presentMember } from './present.js';
import type { MemberRow } from './queries.js';

export interface MemberRendering {
  version: string;
  /** The membership as a direct member list answers it, without `private_metadata`. */
  json: string;
  privateJson: string;
}

/** How many memberships a process keeps rendered: about half a kilobyte each. */
const CAPACITY = 20_000;

/**
 * Direct memberships rendered as the API's JSON under the version they were rendered from, as
 * organizations are (organizations/rendered.ts): a member page reads ids and versions and joins
 * what is kept, rendering only memberships whose version it has not seen.
 */
export class RenderedMembers {
  private readonly entries = new Map<string, MemberRendering>();

  constructor(private readonly capacity = CAPACITY) {}

  find(organizationId: string, userId: string, version: string): MemberRendering | undefined {
    const rendering = this.entries.get(`${organizationId}/${userId}`);
    return rendering?.version === version ? rendering : undefined;
  }

  keep(row: MemberRow & { version: string }): MemberRendering {
    const key = `${row.organization_id}/${row.user_id}`;
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    const rendering = {
      version: row.version,
      json: JSON.stringify(presentMember(row, row.organization_id, false)),
      privateJson: JSON.stringify(row.private_metadata),
    };
    this.entries.set(key, rendering);
    return rendering;
  }
}

/** The JSON of a rendering, with `private_metadata` when the caller may read it. */
export function memberJson(rendering: MemberRendering, privateReadable: boolean): string {
  if (!privateReadable) return rendering.json;
  return `${rendering.json.slice(0, -1)},"private_metadata":${rendering.privateJson}}`;
}

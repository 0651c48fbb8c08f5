import { Renderings } from '../../http/renderings.js';
import { presentMember } from './present.js';
import type { MemberRow } from './queries.js';

/** How many memberships a process keeps rendered: about half a kilobyte each. */
const CAPACITY = 20_000;

/** Direct memberships as a member page answers them, kept by version (http/renderings.ts). */
export class RenderedMembers extends Renderings<MemberRow & { version: string }> {
  constructor(capacity = CAPACITY) {
    super((row) => presentMember(row, row.organization_id, false), capacity);
  }
}

export const memberKey = (organizationId: string, userId: string) => `${organizationId}/${userId}`;

import type { Queryable } from '../../db/client.js';
import { countMemberships } from './queries.js';

/** Above this many memberships, walking organizations in page order beats collecting them all. */
const MANY_MEMBERSHIPS = 200;
const REMEMBER_MS = 60_000;
const MAX_REMEMBERED = 10_000;

const remembered = new Map<string, { count: number; at: number }>();

/**
 * How to list a user's organizations. The membership count is remembered for a minute per
 * process: it only picks a query plan, so a stale count can cost speed but never correctness.
 */
export async function listStrategy(db: Queryable, userId: string): Promise<'collect' | 'scan'> {
  const now = Date.now();
  let entry = remembered.get(userId);
  if (!entry || now - entry.at > REMEMBER_MS) {
    entry = { count: await countMemberships(db, userId), at: now };
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(userId, entry);
  }
  return entry.count > MANY_MEMBERSHIPS ? 'scan' : 'collect';
}

import type { LicensingConfig } from '../../config.js';
import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import { lockTrees } from '../members/reach.js';
import { countSeats, findNearestLicense, type LicenseRow } from './queries.js';
import type { Features } from './schemas.js';

/*
 * Licensing model. The license that covers an organization is the one held by the nearest
 * organization on its path (itself, then its parent, up to the root); with none, the root's free
 * plan covers it. The organization where that is decided heads a seat pool: a seat is a distinct
 * user holding a direct membership in a live organization of the head's subtree, leaving out the
 * subtrees of licensed organizations below it (they head pools of their own). An expired license
 * still heads its pool but grants the free plan's terms.
 */

export interface OrganizationPath {
  id: string;
  root_id: string;
  ancestor_ids: string[];
}

export interface Coverage {
  /** The organization heading the pool: the license holder, or the root on the free plan. */
  headId: string;
  /** The license on the path, expired or not; null on the free plan. */
  license: LicenseRow | null;
  plan: string;
  seats: number | null;
  features: Features;
}

export const FREE_PLAN = 'free';

export async function findCoverage(
  db: Queryable,
  config: LicensingConfig,
  org: OrganizationPath,
): Promise<Coverage> {
  const license = (await findNearestLicense(db, [...org.ancestor_ids, org.id])) ?? null;
  const headId = license?.organization_id ?? org.ancestor_ids[0] ?? org.id;
  if (license && !license.expired) {
    return { headId, license, plan: license.plan, seats: license.seats, features: license.features };
  }
  return { headId, license, plan: FREE_PLAN, seats: config.freePlanSeats, features: {} };
}

export interface SeatCheck {
  /** The users that fit: those already holding a seat in the pool, then new ones while seats last. */
  fitting: Set<string>;
  /** What answers each user that does not fit. */
  refusal: ApiError;
}

/**
 * Which of these users (taken in order) can be given a membership in `org` without taking more
 * seats than its plan has. A user who already holds a seat in the pool takes no new one.
 *
 * Call it inside the transaction that adds the memberships, before adding them. Under a limit it
 * takes the organization's tree lock (the one membership writers take, held to the transaction's
 * end) and reads the plan again under it, so concurrent additions to one pool are counted one
 * after another and a burst cannot overshoot. Without a limit it returns after one read: an add
 * that races a change making the plan limited is simply ordered before that change.
 */
export async function checkSeats(
  tx: Queryable,
  config: LicensingConfig,
  org: OrganizationPath,
  userIds: readonly string[],
): Promise<SeatCheck> {
  const wanted = [...new Set(userIds)];
  const everyone = { fitting: new Set(wanted), refusal: seatLimitReached(FREE_PLAN, 0, 0) };
  if ((await findCoverage(tx, config, org)).seats === null) return everyone;
  await lockTrees(tx, [org.root_id]);
  const coverage = await findCoverage(tx, config, org);
  if (coverage.seats === null) return everyone;
  const { used, counted } = await countSeats(tx, coverage.headId, wanted);
  let free = coverage.seats - used;
  const fitting = new Set<string>();
  for (const userId of wanted) {
    if (counted.includes(userId)) fitting.add(userId);
    else if (free > 0) {
      fitting.add(userId);
      free -= 1;
    }
  }
  return { fitting, refusal: seatLimitReached(coverage.plan, coverage.seats, used) };
}

const seatLimitReached = (plan: string, seats: number, used: number) =>
  new ApiError(
    'seat_limit_reached',
    `The ${plan} plan covering this organization has ${seats} seats, ${used} taken: no room for more.`,
  );

/** Refuses (402 `seat_limit_reached`) unless every one of these users fits (see `checkSeats`). */
export async function ensureSeatsFor(
  tx: Queryable,
  config: LicensingConfig,
  org: OrganizationPath,
  userIds: readonly string[],
): Promise<void> {
  const { fitting, refusal } = await checkSeats(tx, config, org, userIds);
  if (userIds.some((userId) => !fitting.has(userId))) throw refusal;
}

/** `ensureSeatsFor` for one user: what creating an organization or team calls for its creator. */
export function ensureSeatFor(
  tx: Queryable,
  config: LicensingConfig,
  org: OrganizationPath,
  userId: string,
): Promise<void> {
  return ensureSeatsFor(tx, config, org, [userId]);
}

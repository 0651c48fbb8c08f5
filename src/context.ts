import type { Config } from './config.js';
import type { Database } from './db/client.js';
import type { Credentials } from './modules/api-keys/credentials.js';
import type { JwtCallers } from './modules/jwt/callers.js';
import type { RenderedMembers } from './modules/members/rendered.js';
import type { RenderedOrganizations } from './modules/organizations/rendered.js';
import type { TargetPolicy } from './modules/webhooks/targets.js';
import type { Keyring } from './secrets/keyring.js';

/** What services need from the running server; routes pass it in, services never see a request. */
export interface AppContext {
  db: Database;
  config: Config;
  credentials: Credentials;
  /** Verifies JWT callers; null when no JWKS URL or secret is configured. */
  jwt: JwtCallers | null;
  /** Which addresses webhooks may be sent to. */
  webhookTargets: TargetPolicy;
  /** Seals and opens secrets at rest; null on PostgreSQL without `ORGSTACK_SECRET_KEY`. */
  keyring: Keyring | null;
  /** Organizations rendered as JSON by version, which lists join instead of serializing rows. */
  renderedOrganizations: RenderedOrganizations;
  /** Direct memberships rendered as JSON by version, for member pages. */
  renderedMembers: RenderedMembers;
}

import type { Queryable } from '../../db/client.js';
import { ApiError } from '../../http/errors.js';
import { checkMetadata } from '../../http/metadata.js';
import { isUuid } from '../../http/schemas.js';
import type { Keyring } from '../../secrets/keyring.js';
import { findLiveProjects } from './queries.js';
import { ENVIRONMENT_LIMIT, SECRET_LIMIT } from './schemas.js';

/** What a sealed secret is bound to: moved to another integration or name, it does not open. */
export const secretContext = (integrationId: string, name: string) => `integration/${integrationId}/${name}`;

export function sealSecrets(keyring: Keyring, integrationId: string, secrets: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(secrets).map(([name, value]) => [
      name,
      keyring.seal(value, secretContext(integrationId, name)),
    ]),
  );
}

/** Names that say "this is a credential": such values belong in `secrets`, where they are encrypted. */
const SECRET_LIKE = /(secret|token|password|passwd|passphrase|private_?key|api_?key|credentials?)s?$/;

/**
 * `config` is stored and answered as it is, so a credential put there by mistake would be
 * readable by every viewer: fields named like one are refused, at any depth.
 */
export function checkConfig(config: Record<string, unknown> | undefined): void {
  if (config === undefined) return;
  checkMetadata(config, 'config');
  const pending: [unknown, string][] = [[config, 'config']];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      if (!Array.isArray(value) && SECRET_LIKE.test(key.toLowerCase())) {
        throw new ApiError(
          'invalid_request',
          `\`${childPath}\` looks like a credential; send it in \`secrets\`, which are encrypted and never returned.`,
          childPath,
        );
      }
      pending.push([child, childPath]);
    }
  }
}

/** Refuses a merge that would leave more secrets than one integration may hold. */
export function checkSecretCount(names: Iterable<string>): void {
  if ([...names].length > SECRET_LIMIT) {
    throw new ApiError('invalid_request', `An integration holds at most ${SECRET_LIMIT} secrets.`, 'secrets');
  }
}

/** Refuses a mapping (given, or left by a merge) with more environments than one may hold. */
export function checkEnvironmentCount(environments: readonly string[]): void {
  if (environments.length > ENVIRONMENT_LIMIT) {
    throw new ApiError(
      'invalid_request',
      `An environment mapping holds at most ${ENVIRONMENT_LIMIT} environments.`,
      'environment_mapping',
    );
  }
}

/**
 * Turns environment -> project id or slug into environment -> project id. Every project must be a
 * live project of the organization; the first that is not is named in `param` (422).
 */
export async function resolveEnvironmentMapping(
  db: Queryable,
  organizationId: string,
  mapping: Record<string, string>,
): Promise<Record<string, string>> {
  const entries = Object.entries(mapping);
  checkEnvironmentCount(Object.keys(mapping));
  if (entries.length === 0) return {};
  const refs = entries.map(([, ref]) => ref);
  const ids = refs.filter(isUuid).map((ref) => ref.toLowerCase());
  const slugs = refs.filter((ref) => !isUuid(ref));
  const projects = await findLiveProjects(db, organizationId, ids, slugs);
  const byId = new Map(projects.map((project) => [project.id, project.id]));
  const bySlug = new Map(projects.map((project) => [project.slug, project.id]));
  const resolved: Record<string, string> = {};
  for (const [environment, ref] of entries) {
    const id = isUuid(ref) ? byId.get(ref.toLowerCase()) : bySlug.get(ref);
    if (!id) {
      throw new ApiError(
        'unknown_project',
        `No live project \`${ref}\` in this organization.`,
        `environment_mapping.${environment}`,
      );
    }
    resolved[environment] = id;
  }
  return resolved;
}

import { randomUUID } from 'node:crypto';
import type { Reply, ServerProcess } from './server.js';

/** One write as a client made it, and what it got back (nothing, when the connection died). */
export interface Write {
  kind: 'organization' | 'member' | 'project' | 'team';
  method: 'POST';
  path: string;
  body: Record<string, unknown>;
  key: string;
  idempotencyKey: string;
  reply?: Reply;
  failure?: string;
}

export const acknowledged = (write: Write) => write.reply !== undefined && write.reply.status < 300;

/** Sends one write with an Idempotency-Key of its own and records the outcome in `log`. */
export async function send(server: ServerProcess, log: Write[], write: Omit<Write, 'idempotencyKey'>) {
  const entry: Write = { ...write, idempotencyKey: `fault-${randomUUID()}` };
  log.push(entry);
  try {
    entry.reply = await server.call(write.method, write.path, {
      key: write.key,
      body: write.body,
      headers: { 'idempotency-key': entry.idempotencyKey },
    });
  } catch (error) {
    entry.failure = String((error as Error).cause ?? error);
  }
  return entry;
}

/**
 * One client's work until `stopped()` or its first failed request: an organization, then a member,
 * a project and a team in it, each a separate write.
 */
export async function writeLoop(
  server: ServerProcess,
  client: { key: string; label: string },
  log: Write[],
  stopped: () => boolean,
) {
  for (let n = 0; !stopped(); n++) {
    const name = `${client.label}-${n}`;
    const org = await send(server, log, {
      kind: 'organization',
      method: 'POST',
      path: '/v1/organizations',
      body: { name },
      key: client.key,
    });
    if (!acknowledged(org)) return;
    const id = org.reply!.body.id as string;
    const steps: Omit<Write, 'idempotencyKey'>[] = [
      {
        kind: 'member',
        method: 'POST',
        path: `/v1/organizations/${id}/members`,
        body: { email: `${name}-member@example.com`, role: 'member' },
        key: client.key,
      },
      {
        kind: 'project',
        method: 'POST',
        path: `/v1/organizations/${id}/projects`,
        body: { name: `${name} project` },
        key: client.key,
      },
      {
        kind: 'team',
        method: 'POST',
        path: `/v1/organizations/${id}/children`,
        body: { name: `${name} team` },
        key: client.key,
      },
    ];
    for (const step of steps) {
      if (!acknowledged(await send(server, log, step))) return;
    }
  }
}

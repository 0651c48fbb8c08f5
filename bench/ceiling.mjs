// The ceiling: bare Fastify + postgres.js, one route doing the same primary-key SELECT of an
// organization that orgstack's GET /v1/organizations/{id} does, with no authentication, no
// authorization and no response shaping. Nothing on this machine serves that read faster
// through Node, so each orgstack workload is reported as a fraction of it.
//
//   DATABASE_URL=postgres://... PORT=3199 node bench/ceiling.mjs
import Fastify from 'fastify';
import postgres from 'postgres';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('ceiling: DATABASE_URL is required\n');
  process.exit(2);
}
const port = Number(process.env.PORT || 3199);
const poolSize = Number(process.env.POOL_SIZE || 10);

// Same pool size and prepared statements as orgstack's PostgreSQL client.
const sql = postgres(url, { max: poolSize, prepare: true, onnotice: () => {} });

const COLUMNS = `id, root_id, parent_id, ancestor_ids, name, slug, friendly_name, description, domain,
  logo_media_id, billing_account_id, connection_id, active, settings, metadata, public_metadata,
  private_metadata, created_at, updated_at, deleted_at, deletion_id`;
const SELECT = `select ${COLUMNS} from organizations where id = $1`;

const app = Fastify({ logger: false });

app.get('/v1/organizations/:id', async (request, reply) => {
  const rows = await sql.unsafe(SELECT, [request.params.id], { prepare: true });
  if (rows.length === 0) return reply.code(404).send({ error: 'not_found' });
  return rows[0];
});

// The same first page orgstack's list serves, to show what a bare server gets for a page.
const LIST = `select ${COLUMNS} from organizations where deleted_at is null order by id limit 21`;
app.get('/v1/organizations', async () => {
  const rows = await sql.unsafe(LIST, [], { prepare: true });
  return { data: rows.slice(0, 20), has_more: rows.length > 20 };
});

async function shutdown() {
  await app.close();
  await sql.end({ timeout: 2 });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ port, host: '127.0.0.1' });

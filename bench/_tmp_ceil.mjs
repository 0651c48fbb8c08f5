import Fastify from 'fastify';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL, { max: 10, prepare: true, onnotice: () => {} });
const COLUMNS = `id, root_id, parent_id, ancestor_ids, name, slug, friendly_name, description, domain,
  logo_media_id, billing_account_id, connection_id, active, settings, metadata, created_at, updated_at,
  deleted_at, deletion_id`;
const X = `id, root_id, parent_id, cardinality(ancestor_ids) + 1 as depth, name, slug, friendly_name, description, domain,
  logo_media_id, billing_account_id, connection_id, active,
  (settings->>'enforce_2fa')::boolean as s1, (settings->>'members_can_invite')::boolean as s2, (settings->>'members_can_use_personal_api_keys')::boolean as s3,
  (settings->>'allow_publicly_shared_resources')::boolean as s4, (settings->>'is_ai_data_processing_approved')::boolean as s5, settings->>'default_experiment_stats_method' as s6,
  (settings->>'default_anonymize_ips')::boolean as s7, settings->>'default_role_id' as s8,
  metadata, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at, deleted_at::text`;
const app = Fastify({ logger: false });
app.get(
  '/one/:id',
  async (request) =>
    (
      await sql.unsafe(`select ${COLUMNS} from organizations where id = $1`, [request.params.id], {
        prepare: true,
      })
    )[0],
);
app.get('/list', async () => ({
  data: await sql.unsafe(
    `select ${COLUMNS} from organizations where deleted_at is null order by id limit 21`,
    [],
    { prepare: true },
  ),
}));
app.get('/x', async () => ({
  data: await sql.unsafe(`select ${X} from organizations where deleted_at is null order by id limit 21`, [], {
    prepare: true,
  }),
}));
await app.listen({ port: 3902, host: '127.0.0.1' });

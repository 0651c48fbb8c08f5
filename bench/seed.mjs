// Seeds a migrated orgstack database for the benchmark with set-based SQL (generate_series +
// INSERT ... SELECT): a few seconds for 100,000 organizations.
//
// Shape (N organizations, M members, U organizations of the multi-organization user):
//   - organization n (1..N): n % 10 in (2, 3) is a team (child) of organization n - n % 10 + 1;
//     every other one is top-level. Organization 1 is the big organization. One in 1,000 is
//     soft-deleted, one in 50 inactive. Five are named "Quokka Labs <n>" (the name_search target).
//   - users 1..M are members of organization 1 (user 1 owner, every 100th admin, every 10th
//     viewer); user M+1 belongs to U top-level organizations that each have two teams.
//   - every other top-level organization has one owner among users 1..M.
// Ids look like UUID v7: the first 48 bits are a millisecond timestamp that grows with the row
// number, so ordering by id is insertion order. The random-looking bits come from md5 of the row
// number, so a parent's id can be computed from its row number inside the same statement.

import { DEFAULT_SETTINGS } from '../dist/modules/organizations/schemas.js';

const ADJECTIVES = [
  'amber',
  'bold',
  'bright',
  'calm',
  'clever',
  'cosmic',
  'crisp',
  'daring',
  'eager',
  'electric',
  'fancy',
  'gentle',
  'golden',
  'happy',
  'humble',
  'jolly',
  'keen',
  'lively',
  'lucky',
  'mellow',
  'misty',
  'noble',
  'polar',
  'proud',
  'quiet',
  'rapid',
  'royal',
  'rustic',
  'silent',
  'silver',
  'sunny',
  'swift',
  'tidy',
  'urban',
  'vivid',
  'wild',
];
const NOUNS = [
  'analytics',
  'bakery',
  'cloud',
  'consulting',
  'data',
  'design',
  'dynamics',
  'energy',
  'foods',
  'forge',
  'games',
  'garden',
  'health',
  'industries',
  'labs',
  'logistics',
  'media',
  'metrics',
  'motors',
  'networks',
  'partners',
  'robotics',
  'software',
  'studio',
  'systems',
  'ventures',
  'works',
];
const TEAMS = ['platform', 'growth', 'billing', 'support', 'research', 'security', 'mobile', 'infra'];

/** The substring that `name_search` looks for; it appears in exactly five organization names. */
export const NAME_SEARCH = 'quokka';

const textArray = (words) => `array[${words.map((word) => `'${word}'`).join(',')}]::text[]`;

/** SQL for a v7-like uuid: timestamp `base + n` ms, other bits from md5(prefix || n). */
function uuidSql(prefix, baseMs, n) {
  const hash = `md5('${prefix}' || (${n})::text)`;
  return `(lpad(to_hex(${baseMs}::bigint + (${n})), 12, '0') || '7' || substr(${hash}, 1, 3)
          || substr('89ab', 1 + ((${n}) % 4)::int, 1) || substr(${hash}, 4, 15))::uuid`;
}

const stampSql = (baseMs, n) => `to_timestamp((${baseMs}::bigint + (${n})) / 1000.0)`;

export function seedPlan({ orgs, members, userOrgs }) {
  if (!Number.isInteger(orgs) || orgs < 1000) throw new Error('--orgs must be at least 1000');
  if (!Number.isInteger(members) || members < 100) throw new Error('--members must be at least 100');
  const step = Math.floor((orgs - 11) / userOrgs / 10) * 10;
  if (!Number.isInteger(userOrgs) || userOrgs < 1 || step < 10) {
    throw new Error(
      `--user-orgs must be between 1 and ${Math.floor((orgs - 11) / 100)} for ${orgs} organizations`,
    );
  }
  // Seeded rows are older than anything the server creates during the run.
  const now = Date.now();
  return {
    orgs,
    members,
    userOrgs,
    step,
    orgBase: now - 40 * 86_400_000,
    userBase: now - 30 * 86_400_000,
    multiUser: members + 1,
  };
}

/**
 * Inserts the data set. `sql` is a postgres.js client connected to the benchmark database, which
 * the server has already migrated. Returns the fixtures the workloads need.
 */
export async function seed(sql, plan, log = () => {}) {
  const { orgs: N, members: M, userOrgs: U, step, orgBase, userBase, multiUser } = plan;
  const orgId = (n) => uuidSql('org', orgBase, n);
  const userId = (n) => uuidSql('user', userBase, n);
  const parentRow = 'n - n % 10 + 1';
  const isTeam = 'n % 10 in (2, 3)';
  const quokkaStep = Math.floor(N / 5);
  const isQuokka = `(n % ${quokkaStep} = 5 and n < ${quokkaStep * 5})`;
  const deleted = `(n % 1000 = 999)`;

  let started = Date.now();
  await sql.unsafe(`
    insert into organizations (id, root_id, parent_id, ancestor_ids, name, slug, description, active,
                               settings, metadata, created_at, updated_at, deleted_at, deletion_id)
    select ${orgId('n')},
           case when ${isTeam} then ${orgId(parentRow)} else ${orgId('n')} end,
           case when ${isTeam} then ${orgId(parentRow)} end,
           case when ${isTeam} then array[${orgId(parentRow)}] else '{}'::uuid[] end,
           case when n = 1 then 'Bench Big Org'
                when ${isQuokka} then 'Quokka Labs ' || n
                when ${isTeam} then initcap((${textArray(TEAMS)})[1 + n % ${TEAMS.length}]) || ' team ' || n
                else initcap((${textArray(ADJECTIVES)})[1 + n % ${ADJECTIVES.length}]) || ' '
                     || initcap((${textArray(NOUNS)})[1 + (n / ${ADJECTIVES.length}) % ${NOUNS.length}]) || ' ' || n
           end,
           case when n = 1 then 'big-org' else 'org-' || n end,
           case when n % 3 = 0 then 'Seeded organization number ' || n end,
           n % 50 <> 0,
           '${JSON.stringify(DEFAULT_SETTINGS)}'::jsonb,
           jsonb_build_object('seq', n),
           ${stampSql(orgBase, 'n')}, ${stampSql(orgBase, 'n')},
           case when ${deleted} then now() end,
           case when ${deleted} then ${orgId('n')} end
      from generate_series(1, ${N}) as n`);
  await sql.unsafe(`
    update organizations p set child_count = c.children
      from (select parent_id, count(*)::int as children from organizations
             where parent_id is not null group by parent_id) c
     where p.id = c.parent_id`);
  log(`organizations: ${N} in ${Date.now() - started} ms`);

  started = Date.now();
  await sql.unsafe(`
    insert into users (id, email, name, created_at, updated_at)
    select ${userId('n')},
           case when n = ${multiUser} then 'multi@bench.example' else 'member' || n || '@bench.example' end,
           case when n = ${multiUser} then 'Multi Org User' else 'Member ' || n end,
           ${stampSql(userBase, 'n')}, ${stampSql(userBase, 'n')}
      from generate_series(1, ${multiUser}) as n`);
  log(`users: ${multiUser} in ${Date.now() - started} ms`);

  started = Date.now();
  // The big organization: M direct members.
  await sql.unsafe(`
    insert into memberships (organization_id, user_id, root_id, role)
    select ${orgId(1)}, ${userId('n')}, ${orgId(1)},
           case when n = 1 then 'owner' when n % 100 = 0 then 'admin' when n % 10 = 0 then 'viewer'
                else 'member' end
      from generate_series(1, ${M}) as n`);
  // The multi-organization user: U top-level organizations (rows 11, 11 + step, ...), each with two teams.
  await sql.unsafe(`
    insert into memberships (organization_id, user_id, root_id, role)
    select ${orgId('n')}, ${userId(multiUser)}, ${orgId('n')},
           case when k % 10 = 0 then 'owner' when k % 3 = 0 then 'admin' else 'member' end
      from generate_series(0, ${U - 1}) as k, lateral (select 11 + k * ${step} as n) as pick`);
  // One owner for every other top-level organization.
  await sql.unsafe(`
    insert into memberships (organization_id, user_id, root_id, role)
    select ${orgId('n')}, ${userId(`1 + (n * 7919) % ${M}`)}, ${orgId('n')}, 'owner'
      from generate_series(2, ${N}) as n
     where not (${isTeam})`);
  // What each user reaches, as the server keeps it: memberships and their descendants.
  await sql.unsafe(`
    insert into user_organizations (user_id, organization_id, root_id)
    select user_id, organization_id, root_id from memberships
    union
    select m.user_id, d.id, d.root_id
      from organizations d cross join lateral unnest(d.ancestor_ids) as ancestor(id)
      join memberships m on m.organization_id = ancestor.id`);
  log(`memberships in ${Date.now() - started} ms`);

  started = Date.now();
  await sql.unsafe('vacuum (analyze) organizations, users, memberships, user_organizations, api_keys');
  await sql.unsafe('checkpoint').catch(() => {}); // needs superuser or pg_checkpoint; optional
  log(`vacuum analyze + checkpoint in ${Date.now() - started} ms`);

  return fixtures(sql, plan);
}

/** Ids and cursors the workloads use, read back from the database. */
export async function fixtures(sql, plan) {
  const { orgs: N, members: M } = plan;
  const deepRow = Math.floor(N * 0.9);
  const deepMemberRow = Math.floor(M * 0.9);
  const [big] = await sql`select id from organizations where slug = 'big-org' and deleted_at is null`;
  const [multi] = await sql`select id from users where email = 'multi@bench.example'`;
  const [deep] = await sql`select id from organizations order by id offset ${deepRow - 1} limit 1`;
  const [deepMember] = await sql`
    select user_id from memberships where organization_id = ${big.id}
     order by user_id offset ${deepMemberRow - 1} limit 1`;
  const sample = await sql`
    select id from organizations where deleted_at is null order by random() limit 1000`;
  const [counts] = await sql`
    select (select count(*) from organizations)::int as organizations,
           (select count(*) from users)::int as users,
           (select count(*) from memberships)::int as memberships`;
  return {
    bigOrgId: big.id,
    multiUserId: multi.id,
    deepRow,
    deepOrgId: deep.id,
    deepMemberRow,
    deepMemberUserId: deepMember.user_id,
    sampleOrgIds: sample.map((row) => row.id),
    counts,
  };
}

/** What the usage workloads find: storage types, pipelines and billing types of the rollups. */
export const USAGE_STORAGE_TYPES = ['s3', 'bigquery', 'dev-null', 'gcs'];
export const USAGE_PIPELINES = 25;
export const USAGE_DAYS = 30;

/**
 * Usage history of the big organization, written the way ingestion leaves it, but directly in SQL:
 * rollups worth `records` records over the last USAGE_DAYS days (every storage type, pipeline and
 * billing type in every hour, at the three grains ingestion keeps), the month totals its budget checks read, a budget, and
 * a raw `usage_records` table of `raw` rows in batches of 1,000. Summaries read only the rollups,
 * so the raw rows are a sample (the ledger ingestion writes to), not the records the rollups count.
 */
export async function seedUsage(sql, { records, raw }, log = () => {}) {
  const [big] =
    await sql`select id, root_id from organizations where slug = 'big-org' and deleted_at is null`;
  const [team] = await sql`
    select id from organizations where parent_id = ${big.id} and deleted_at is null order by id limit 1`;
  const hours = USAGE_DAYS * 24;
  const series = USAGE_STORAGE_TYPES.length * USAGE_PIPELINES * 2;
  const perRow = Math.floor(records / (hours * series));
  const remainder = records - perRow * hours * series;
  if (perRow < 1) throw new Error(`--usage-records must be at least ${hours * series}`);

  let started = Date.now();
  // Series s: storage type s % 4, billing type (s / 4) % 2, pipeline s / 8.
  await sql.unsafe(`
    insert into usage_hourly (organization_id, storage_type, hour, billing_type, pipeline_id, root_id,
                              bytes, cost, record_count)
    select '${big.id}', (${textArray(USAGE_STORAGE_TYPES)})[1 + s % ${USAGE_STORAGE_TYPES.length}],
           date_trunc('hour', now()) - h * interval '1 hour',
           case when (s / ${USAGE_STORAGE_TYPES.length}) % 2 = 0 then 'billable' else 'non_billable' end,
           'pipeline-' || (s / ${USAGE_STORAGE_TYPES.length * 2}), '${big.root_id}',
           c.n * 1048576, c.n * 0.0001, c.n
      from generate_series(0, ${hours - 1}) as h, generate_series(0, ${series - 1}) as s,
           lateral (select ${perRow} + case when h * ${series} + s < ${remainder} then 1 else 0 end as n) as c`);
  // The other two grains, derived as ingestion keeps them: every pipeline per hour, each pipeline per day.
  await sql.unsafe(`
    insert into usage_hourly_totals (organization_id, storage_type, hour, billing_type, root_id, bytes, cost,
                                     record_count)
    select organization_id, storage_type, hour, billing_type, root_id, sum(bytes), sum(cost), sum(record_count)
      from usage_hourly where organization_id = '${big.id}' group by 1, 2, 3, 4, 5`);
  await sql.unsafe(`
    insert into usage_daily (organization_id, storage_type, day, billing_type, pipeline_id, root_id, bytes, cost,
                             record_count)
    select organization_id, storage_type, date_trunc('day', hour, 'UTC'), billing_type, pipeline_id, root_id,
           sum(bytes), sum(cost), sum(record_count)
      from usage_hourly where organization_id = '${big.id}' group by 1, 2, 3, 4, 5, 6`);
  await sql.unsafe(`
    insert into usage_month_totals (organization_id, month, root_id, billable_cost)
    select '${big.id}', date_trunc('month', hour at time zone 'UTC')::date, '${big.root_id}', sum(cost)
      from usage_hourly where organization_id = '${big.id}' and billing_type = 'billable' group by 2`);
  // A budget far above the spending, so every ingested batch runs the budget check and passes it.
  await sql.unsafe(`
    insert into budgets (organization_id, root_id, monthly_limit) values ('${big.id}', '${big.root_id}', 1e12)`);
  log(`usage rollups: ${hours * series} rows for ${records} records in ${Date.now() - started} ms`);

  started = Date.now();
  const batches = Math.ceil(raw / 1000);
  const batchBase = Date.now() - USAGE_DAYS * 86_400_000;
  await sql.unsafe(`
    insert into usage_batches (id, organization_id, root_id, fingerprint, record_count, total_cost, total_bytes,
                               created_at)
    select ${uuidSql('batch', batchBase, 'b')}, '${big.id}', '${big.root_id}', md5(b::text),
           least(1000, ${raw} - (b - 1) * 1000), least(1000, ${raw} - (b - 1) * 1000) * 0.0001,
           least(1000, ${raw} - (b - 1) * 1000) * 1048576, ${stampSql(batchBase, 'b')}
      from generate_series(1, ${batches}) as b`);
  await sql.unsafe(`
    insert into usage_records (batch_id, seq, organization_id, root_id, storage_type, pipeline_id, billing_type,
                               bytes, cost, occurred_at)
    select ${uuidSql('batch', batchBase, '1 + (n - 1) / 1000')}, 1 + (n - 1) % 1000, '${big.id}', '${big.root_id}',
           (${textArray(USAGE_STORAGE_TYPES)})[1 + n % ${USAGE_STORAGE_TYPES.length}],
           'pipeline-' || (n % ${USAGE_PIPELINES}), case when n % 2 = 0 then 'billable' else 'non_billable' end,
           1048576, 0.0001, now() - (n % ${hours * 3600}) * interval '1 second'
      from generate_series(1, ${raw}) as n`);
  log(`usage records: ${raw} raw rows in ${batches} batches in ${Date.now() - started} ms`);

  started = Date.now();
  await sql.unsafe(
    'vacuum (analyze) usage_hourly, usage_month_totals, usage_records, usage_batches, budgets',
  );
  log(`usage vacuum analyze in ${Date.now() - started} ms`);
  const [counts] = await sql`
    select (select sum(record_count) from usage_hourly)::bigint::text as records,
           (select count(*) from usage_hourly)::int + (select count(*) from usage_hourly_totals)::int
             + (select count(*) from usage_daily)::int as rollups,
           (select count(*) from usage_records)::int as raw`;
  return {
    usageOrgId: big.id,
    usageTeamId: team.id,
    usageRecords: Number(counts.records),
    usageRollups: counts.rollups,
    usageRaw: counts.raw,
  };
}

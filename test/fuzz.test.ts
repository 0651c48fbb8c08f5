import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { ADMIN_KEY, describeEachDatabase, type TestApp } from './helpers/app.js';

/*
 * Property-based fuzzing generated from the OpenAPI document: every operation gets random
 * bodies, query strings and path values, valid by its schemas and not, from callers of every
 * kind. Whatever arrives, the answer is 2xx/3xx or a 4xx in the error envelope: never a 5xx,
 * never a stack trace or SQL.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  parameters: Array<{ in: string; name: string; required?: boolean; style?: string; schema: Schema }>;
  body?: Schema;
}

let doc: Schema;
const resolve = (schema: Schema | undefined): Schema | undefined => {
  let current = schema;
  while (current?.$ref) current = doc.components.schemas[current.$ref.split('/').pop()];
  return current;
};

/** Values that have broken servers before: control characters, odd unicode, huge and hostile text. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  '😀'.repeat(40),
  'x'.repeat(10_000),
  "'; drop table organizations; --",
  '%',
  '_',
  '\\',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  '1e309',
  '-0',
  'null',
  'true',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '2026-02-30T25:61:61Z',
  '9999-12-31T23:59:60Z',
];
const nastyString = fc.constantFrom(...NASTY_STRINGS);

function stringFor(schema: Schema): fc.Arbitrary<string> {
  const maxLength = Math.min(schema.maxLength ?? 64, 64);
  const minLength = Math.min(schema.minLength ?? 0, maxLength);
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'email') return fc.emailAddress();
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (schema.pattern) {
    try {
      return fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY));
    } catch {
      // Patterns fast-check cannot generate from (lookaheads) fall back to plain strings.
    }
  }
  return fc.string({ minLength, maxLength });
}

/** Values that satisfy the schema (as far as a generator cheaply can). */
function valid(input: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(input);
  if (!schema || Object.keys(schema).length === 0) return fc.jsonValue({ maxDepth: 2 });
  if (schema.anyOf || schema.oneOf)
    return fc.oneof(...(schema.anyOf ?? schema.oneOf).map((s: Schema) => valid(s, depth + 1)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object'];
  return fc.oneof(...types.map((type) => validOfType(schema, type, depth)));
}

function validOfType(schema: Schema, type: string, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valid(schema.items, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
    default: {
      if (depth > 4 || !schema.properties)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      const shape = Object.fromEntries(
        Object.entries(schema.properties as Record<string, Schema>).map(([key, s]) => [
          key,
          valid(s, depth + 1),
        ]),
      );
      return fc.record(shape, { requiredKeys: schema.required ?? [] });
    }
  }
}

/** A valid object with only its required fields. */
function minimal(input: Schema): fc.Arbitrary<unknown> {
  const schema = resolve(input);
  if (!schema?.properties) return valid(schema);
  const required: string[] = schema.required ?? [];
  return fc.record(Object.fromEntries(required.map((key) => [key, valid(schema.properties[key], 1)])));
}

/** Anything at all, or a valid value with one part broken. */
function invalid(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const wrongType = fc.oneof(fc.jsonValue({ maxDepth: 3 }), nastyString, fc.constant(undefined));
  return fc.oneof(
    wrongType,
    fc.tuple(valid(schema), fc.string({ maxLength: 12 }), wrongType).map(([value, key, junk]) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const keys = Object.keys(value);
        const target = keys.length > 0 && key.length % 2 === 0 ? keys[key.length % keys.length]! : key;
        return { ...value, [target]: junk };
      }
      return junk;
    }),
  );
}

/**
 * Real values for a path parameter: those listed for `<path> <name>` (where one name means
 * different things on different routes, as `id` does), else those for the name, else any id.
 */
function fixtureValues(path: string, name: string, fixtures: Record<string, string[]>): string[] {
  return fixtures[`${path} ${name}`] ?? fixtures[name] ?? fixtures.any!;
}

function pathValue(path: string, name: string, fixtures: Record<string, string[]>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...fixtureValues(path, name, fixtures)) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  );
}

function queryValue(schema: Schema): fc.Arbitrary<string> {
  return fc.oneof(
    valid(schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    nastyString,
    fc.string({ maxLength: 40 }),
  );
}

/** `name[key]=value` pairs for a `deepObject` parameter (`metadata[plan]=pro`), well-formed or not. */
function deepObjectEntries(name: string, wellFormed: boolean): fc.Arbitrary<[string, string][]> {
  const word = fc.constantFrom('plan', 'seats', 'beta', '__proto__');
  const key = wellFormed
    ? word
    : fc.oneof(word, fc.constantFrom('', '[', ']', 'a][b', 'a]['), nastyString, fc.string({ maxLength: 12 }));
  const scalar = fc.constantFrom('pro', '10', '10.0', '-0', 'true', 'null', '1e999999', '9'.repeat(40));
  const value = wellFormed ? scalar : fc.oneof(scalar, nastyString, fc.string({ maxLength: 20 }));
  const entry = fc
    .tuple(key, value)
    .map(([k, v]): [string, string] => [wellFormed || k.length % 3 ? `${name}[${k}]` : `${name}${k}`, v]);
  return fc.array(entry, { maxLength: wellFormed ? 3 : 7 });
}

/** Percent-encodes a path value; lone surrogates become invalid UTF-8 bytes, itself a good case. */
function encodePathValue(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value].map((c) => (/[\ud800-\udfff]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

function operations(): Operation[] {
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, op] of Object.entries(byMethod)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

/** Operations that answered at least one success: proof the generators reach past validation. */
const succeeded = new Set<string>();

// A stack frame names a file (`at fn (/app/x.js:1:2)`, `at node:internal/...:1:2`): a generated
// name like "at " followed later by a timestamp's "19:58:42" is not one.
const STACK_OR_SQL =
  /\bat (?:[\w.<>$]+ )?\(?(?:file:\/\/|\/|node:)[^\s)"]*:\d+:\d+|node_modules|\/src\/|syntax error|relation "|violates .* constraint/i;

async function check(t: TestApp, op: Operation, fixtures: Record<string, string[]>, keys: (string | null)[]) {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query' && p.style !== 'deepObject');
  const deepParams = op.parameters.filter((p) => p.in === 'query' && p.style === 'deepObject');
  const anything = fc.record({
    path: fc.tuple(...pathParams.map((p) => pathValue(op.path, p.name, fixtures))),
    query: fc.tuple(...queryParams.map((p) => fc.option(queryValue(p.schema), { nil: undefined }))),
    deep: fc.tuple(...deepParams.map((p) => deepObjectEntries(p.name, false))),
    extraQuery: fc.option(
      fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })),
      {
        nil: undefined,
      },
    ),
    body: op.body
      ? fc.oneof(valid(op.body), invalid(op.body))
      : fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
    key: fc.constantFrom(...keys),
  });
  // Half the cases stay close to a request that should work, so the paths past validation are
  // exercised too: real resources, required fields only, defaults for the query, a real key.
  const plausible = fc.record({
    path: fc.tuple(...pathParams.map((p) => fc.constantFrom(...fixtureValues(op.path, p.name, fixtures)))),
    query: fc.tuple(...queryParams.map(() => fc.constant(undefined))),
    deep: fc.tuple(...deepParams.map((p) => deepObjectEntries(p.name, true))),
    extraQuery: fc.constant(undefined),
    body: op.body ? minimal(op.body) : fc.constant(undefined),
    key: fc.constantFrom(keys[0]!, keys[1]!),
  });
  const request = fc.oneof(anything, plausible);
  await fc.assert(
    fc.asyncProperty(request, async (input) => {
      let url = op.path;
      pathParams.forEach((p, i) => {
        url = url.replace(`{${p.name}}`, encodePathValue(input.path[i]!));
      });
      const search = new URLSearchParams();
      queryParams.forEach((p, i) => {
        const value = input.query[i];
        if (value !== undefined) search.append(p.name, value);
      });
      for (const entries of input.deep) for (const [name, value] of entries) search.append(name, value);
      if (input.extraQuery) search.append(...input.extraQuery);
      const qs = search.toString();
      const headers: Record<string, string> = {};
      if (input.key) headers.authorization = `Bearer ${input.key}`;
      const hasBody = input.body !== undefined && op.method !== 'GET' && op.method !== 'DELETE';
      if (hasBody) headers['content-type'] = 'application/json';
      const response = await t.app.inject({
        method: op.method as 'GET',
        url: qs ? `${url}?${qs}` : url,
        headers,
        ...(hasBody ? { payload: JSON.stringify(input.body) } : {}),
      });
      const where = `${op.method} ${url.slice(0, 200)}?${qs.slice(0, 200)} -> ${response.statusCode}: ${response.body.slice(0, 300)}`;
      expect(response.statusCode, where).toBeLessThan(500);
      if (response.statusCode < 300) succeeded.add(`${op.method} ${op.path}`);
      expect(STACK_OR_SQL.test(response.body), where).toBe(false);
      if (response.statusCode >= 400) {
        const body = response.json();
        expect(typeof body.error?.code, where).toBe('string');
        expect(typeof body.error?.request_id, where).toBe('string');
      }
    }),
    { numRuns: RUNS },
  );
}

describeEachDatabase('every operation survives random input', (use) => {
  beforeAll(async () => {
    const t = use();
    doc = (await t.get('/openapi.json', { key: null })).body;
  });

  it('answers random requests to every operation with 2xx or a 4xx envelope, never a 5xx', async () => {
    const t = use();
    for (const op of operations()) {
      // Fresh resources per operation, so a delete fuzzed earlier leaves later ones something to find.
      const { owner, org, team } = await t.ownerWithTeam();
      const other = await t.userWithKey(['organization:read']);
      const key = await t.expect(201, t.post('/v1/api-keys', { user_id: other.user.id }));
      const webhook = await t.expect(
        201,
        t.post('/v1/webhook-endpoints', {
          url: 'http://93.184.216.34/hook',
          organization_id: org.id,
          enabled: false,
        }),
      );
      const project = await t.expect(201, t.post(`/v1/organizations/${org.id}/projects`, { name: 'Fuzzed' }));
      // Unlimited seats, so fuzzed member adds are not all refused for lack of them.
      const license = await t.expect(201, t.post('/v1/licenses', { plan: 'fuzzed', seats: null }));
      await t.expect(
        200,
        t.call('PUT', `/v1/organizations/${org.id}/license`, { body: { license_id: license.id } }),
      );
      const deployment = await t.expect(
        201,
        t.post(`/v1/licenses/${license.id}/deployments`, { name: 'fuzzed', version: '1' }),
      );
      const integration = await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/integrations`, {
          kind: 'vercel',
          external_id: 'fuzzed',
          secrets: { api_token: 'fuzzed' },
          environment_mapping: { production: project.id },
        }),
      );
      const invitation = await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/invitations`, { email: `${t.unique('fuzz')}@example.com` }),
      );
      const role = await t.expect(
        201,
        t.post(`/v1/organizations/${org.id}/roles`, { key: 'fuzzed', name: 'Fuzzed', base_role: 'member' }),
      );
      const link = await t.expect(201, t.post(`/v1/organizations/${org.id}/invite-links`, {}));
      const ids = [
        org.id,
        org.slug,
        team.id,
        owner.user.id,
        key.id,
        webhook.id,
        project.id,
        license.id,
        integration.id,
        invitation.id,
        link.id,
        role.id,
      ];
      const fixtures: Record<string, string[]> = {
        org: [org.id, org.slug],
        org_id: [org.id],
        child: [team.id, team.slug],
        organization_id: [org.id, org.slug],
        child_organization_id: [team.id, team.slug],
        user_id: [owner.user.id, other.user.id],
        key_id: [key.id],
        id: [webhook.id],
        project_id: [project.id, project.slug],
        license_id: [license.id],
        deployment_id: [deployment.id],
        integration_id: [integration.id],
        storage_type: ['s3', 'bigquery'],
        invitation_id: [invitation.id],
        link_id: [link.id],
        role_id: [role.id, role.key, 'admin'],
        '/admin/v1/organizations/{slug} slug': [org.slug, team.slug],
        '/api/organizations/{id} id': [org.id, org.slug, '@current'],
        '/api/organizations/{organization_id}/integrations organization_id': [org.id],
        '/api/organizations/{organization_id}/integrations/{id} organization_id': [org.id],
        '/api/organizations/{organization_id}/integrations/{id} id': [integration.id],
        '/api/organizations/{organization_id}/integrations/{id}/environment-mapping organization_id': [
          org.id,
        ],
        '/api/organizations/{organization_id}/integrations/{id}/environment-mapping id': [integration.id],
        any: ids,
      };
      await check(t, op, fixtures, [
        ADMIN_KEY,
        owner.key,
        other.key,
        null,
        'osk_not_a_real_key_0123456789abcdef',
      ]);
    }
    const never = operations()
      .map((op) => `${op.method} ${op.path}`)
      .filter((name) => !succeeded.has(name));
    // Most operations must have succeeded at least once, or the generators only test validation.
    expect(never.length, `never succeeded: ${never.join(', ')}`).toBeLessThanOrEqual(operations().length / 4);
  }, 600_000);
});

import { expect, it } from 'vitest';
import { describeEachDatabase } from './helpers/app.js';

describeEachDatabase('input PostgreSQL cannot store', (use) => {
  it('are refused with 400 naming the field, in bodies, nested fields and query strings', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const org = await t.createOrganization(key);
    const cases = [
      { reply: t.post(`/v1/organizations/${org.id}/api-keys`, { name: 'a\u0000b' }, { key }), param: 'name' },
      {
        reply: t.post('/v1/organizations', { name: 'ok', metadata: { note: 'x\u0000' } }, { key }),
        param: 'metadata.note',
      },
      {
        reply: t.patch(`/v1/organizations/${org.id}`, { description: '\u0000' }, { key }),
        param: 'description',
      },
      { reply: t.get('/v1/users', { query: { email: 'a\u0000@example.com' } }), param: 'email' },
    ];
    for (const { reply, param } of cases) {
      const answer = await reply;
      expect(answer.status, param).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'invalid_request', param });
    }
    const unchanged = await t.expect(200, t.get(`/v1/organizations/${org.id}`, { key }));
    expect(unchanged.description).toBeNull();
  });

  it('refuses unpaired surrogates in text and JSON keys, naming the field', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const inValue = await t.post(
      '/v1/organizations',
      { name: 'ok', settings: { default_role_id: '\ud800' } },
      { key },
    );
    expect(inValue.status).toBe(400);
    expect(inValue.body.error.param).toBe('settings.default_role_id');
    const inKey = await t.post('/v1/organizations', { name: 'ok', metadata: { '\udc00': 1 } }, { key });
    expect(inKey.status).toBe(400);
    expect(inKey.body.error.param).toMatch(/^metadata\./);
    // A well-formed pair (an emoji) is fine.
    await t.expect(201, t.post('/v1/organizations', { name: 'ok 💥', metadata: { '💥': '💥' } }, { key }));
  });

  it('refuses a leap-second expiry, which JavaScript cannot represent, with 400', async () => {
    const t = use();
    const { key } = await t.userWithKey();
    const reply = await t.post('/v1/api-keys', { expires_at: '2030-06-30T23:59:60Z' }, { key });
    expect(reply.status).toBe(400);
    expect(reply.body.error.param).toBe('expires_at');
  });
});

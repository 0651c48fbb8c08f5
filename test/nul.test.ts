import { expect, it } from 'vitest';
import { describeEachDatabase } from './helpers/app.js';

describeEachDatabase('NUL characters', (use) => {
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
});

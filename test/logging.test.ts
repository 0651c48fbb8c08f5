import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { loggerOptions } from '../src/app.js';
import { ADMIN_KEY, startTestApp } from './helpers/app.js';
import { backends } from './helpers/databases.js';

const [pglite] = backends;

it('logs structured lines with the request id and never a key or secret', async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const options = { ...(loggerOptions('trace') as object), stream };
  const t = await startTestApp(pglite!, {}, options);
  try {
    const user = await t.createUser();
    const created = await t.expect(201, t.post('/v1/api-keys', { user_id: user.id }));
    await t.expect(200, t.get('/v1/me', { key: created.secret, headers: { 'x-request-id': 'trace-me-1' } }));
    await t.post('/v1/organizations', '{"name":', { headers: { 'content-type': 'application/json' } });
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.some((line) => JSON.parse(line).reqId === 'trace-me-1')).toBe(true);
    expect(text).not.toContain(created.secret);
    expect(text).not.toContain(ADMIN_KEY);
  } finally {
    await t.close();
  }
});

it('never logs an invitation or invite link token, also when accepting one fails', async () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const t = await startTestApp(pglite!, {}, { ...(loggerOptions('trace') as object), stream });
  try {
    const invitee = await t.userWithKey();
    const org = await t.expect(201, t.post('/v1/organizations', { name: 'Logged' }));
    const sent = await t.expect(
      201,
      t.post(`/v1/organizations/${org.id}/invitations`, { email: invitee.user.email }),
    );
    const link = await t.expect(201, t.post(`/v1/organizations/${org.id}/invite-links`, {}));
    const resent = await t.expect(
      200,
      t.post(`/v1/organizations/${org.id}/invitations/${sent.id}/resend`, {}),
    );
    await t.expect(404, t.post('/v1/invitations/accept', { token: sent.token }, { key: invitee.key }));
    await t.expect(201, t.post('/v1/invitations/accept', { token: resent.token }, { key: invitee.key }));
    await t.expect(409, t.post('/v1/invitations/accept', { token: link.token }, { key: invitee.key }));
    const text = lines.join('');
    expect(text).toContain('/v1/invitations/accept');
    for (const token of [sent.token, resent.token, link.token]) expect(text).not.toContain(token);
  } finally {
    await t.close();
  }
});

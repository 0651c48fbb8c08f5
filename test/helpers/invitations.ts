import type { TestApp } from './app.js';

export const invitations = (org: string) => `/v1/organizations/${org}/invitations`;
export const invitation = (org: string, id: string) => `/v1/organizations/${org}/invitations/${id}`;
export const inviteLinks = (org: string) => `/v1/organizations/${org}/invite-links`;
export const inviteLink = (org: string, id: string) => `/v1/organizations/${org}/invite-links/${id}`;
export const ACCEPT = '/v1/invitations/accept';

export const accept = (t: TestApp, token: string, key: string) => t.post(ACCEPT, { token }, { key });

/** The action names of an organization's audit trail that start with `prefix`, oldest first. */
export async function auditActions(t: TestApp, org: string, prefix: string) {
  const actions: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await t.expect(
      200,
      t.get(`/v1/organizations/${org}/audit-events`, {
        query: { action: prefix, limit: 100, ...(cursor ? { cursor } : {}) },
      }),
    );
    actions.push(...page.data.map((event: any) => event.action as string));
    if (!page.pagination.has_more) return actions;
    cursor = page.pagination.next_cursor;
  }
}

/** The error code of a reply, after checking its status. */
export async function refusal(status: number, reply: Promise<{ status: number; body: any }>) {
  const result = await reply;
  if (result.status !== status) {
    throw new Error(`expected ${status}, got ${result.status}: ${JSON.stringify(result.body)}`);
  }
  return result.body.error as { code: string; param: string | null; message: string };
}

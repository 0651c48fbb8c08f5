/** The victim of the tenant isolation matrix (test/isolation.test.ts): real resources in one tree. */
export interface Victim {
  root: any;
  team: any;
  sibling: any;
  owner: { user: any; key: string; keyId: string };
  member: { user: any; key: string; keyId: string };
  teamKeyId: string;
  webhookId: string;
  projectId: string;
  licenseId: string;
  spareLicenseId: string;
  deploymentId: string;
  integrationId: string;
  invitationId: string;
  linkId: string;
  roleId: string;
}

export interface RouteCase {
  /** The scope family the route needs (`organization` for `organization:read|write`). */
  scope: 'organization' | 'member' | 'user' | 'api_key' | 'organization_integration' | 'usage';
  path: (v: Victim) => Record<string, string>;
  body?: (v: Victim) => unknown;
}

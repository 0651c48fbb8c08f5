import type postgres from 'postgres';

/*
 * What must hold in the database whatever happened to the process writing it: each change is all
 * there or not there at all. The fault loads only create and update (nothing is deleted), so every
 * audit event's target must still exist.
 */
const CHECKS: Record<string, string> = {
  'an organization without its organization.created event': `
    select o.id from organizations o
     where not exists (select 1 from audit_events e
                        where e.action = 'organization.created' and e.target_id = o.id::text)`,
  'an organization created by a user without that user as owner': `
    select e.target_id from audit_events e
      join organizations o on o.id::text = e.target_id
     where e.action = 'organization.created' and e.actor_kind = 'user' and o.parent_id is null
       and not exists (select 1 from memberships m
                        where m.organization_id = o.id and m.user_id = e.actor_user_id and m.role = 'owner')`,
  'a membership without the event that made it': `
    select m.organization_id, m.user_id from memberships m
     where not exists (select 1 from audit_events e
                        where e.action = 'member.added' and e.target_id = m.organization_id || '/' || m.user_id)
       and not exists (select 1 from audit_events e
                        where e.action = 'organization.created' and e.target_id = m.organization_id::text
                          and e.actor_user_id = m.user_id)`,
  'a project without its project.created event': `
    select p.id from projects p
     where not exists (select 1 from audit_events e
                        where e.action = 'project.created' and e.target_id = p.id::text)`,
  'an audit event whose target does not exist': `
    select e.id, e.action, e.target_id from audit_events e
     where case e.target_type
             when 'organization' then not exists (select 1 from organizations o where o.id::text = e.target_id)
             when 'member' then not exists (select 1 from memberships m
                                             where m.organization_id || '/' || m.user_id = e.target_id)
             when 'project' then not exists (select 1 from projects p where p.id::text = e.target_id)
             when 'user' then not exists (select 1 from users u where u.id::text = e.target_id)
             when 'api_key' then not exists (select 1 from api_keys k where k.id::text = e.target_id)
             when 'webhook_endpoint' then not exists (select 1 from webhook_endpoints w where w.id::text = e.target_id)
             else true
           end`,
  'user_organizations differing from what memberships and the tree derive': `
    with derived as (
      select distinct m.user_id, d.id as organization_id
        from organizations d join memberships m on m.organization_id = any(d.ancestor_ids || d.id))
    (select user_id, organization_id, 'missing' as drift from derived
      except select user_id, organization_id, 'missing' from user_organizations)
    union all
    (select user_id, organization_id, 'extra' from user_organizations
      except select user_id, organization_id, 'extra' from derived)`,
  // Endpoints in these tests are made before the load and stay enabled.
  'an audit event of a watched organization with no outbox row': `
    select e.id, w.id as endpoint_id from audit_events e
      join webhook_endpoints w
        on w.organization_id is null or w.organization_id = e.organization_id
        or exists (select 1 from organizations o
                    where o.id = e.organization_id and o.ancestor_ids @> array[w.organization_id])
     where w.enabled and e.created_at > w.created_at
       and not (e.target_type = 'webhook_endpoint' and e.target_id = w.id::text)
       and (cardinality(w.event_types) = 0 or e.action = any(w.event_types))
       and not exists (select 1 from webhook_deliveries d where d.endpoint_id = w.id and d.event_id = e.id)`,
};

/** Every broken invariant with a few offending rows; empty when all hold. */
export async function brokenInvariants(sql: postgres.Sql): Promise<Record<string, unknown[]>> {
  const broken: Record<string, unknown[]> = {};
  for (const [name, query] of Object.entries(CHECKS)) {
    const rows = await sql.unsafe(query);
    if (rows.length > 0) broken[name] = rows.slice(0, 5);
  }
  return broken;
}

-- Keys made with every scope that existed before usage:read and usage:write (admin keys, and
-- keys created without naming scopes) get the two new ones, so "all scopes" keeps meaning all.
-- Keys created with a chosen subset are left as they are.
UPDATE "api_keys"
   SET "scopes" = "scopes" || ARRAY(
         SELECT s FROM unnest(ARRAY['usage:read', 'usage:write']::text[]) AS s WHERE s <> ALL ("scopes")),
       "updated_at" = greatest(now(), "updated_at" + interval '1 millisecond')
 WHERE "scopes" @> ARRAY['organization:read', 'organization:write', 'member:read', 'member:write',
                         'user:read', 'user:write', 'api_key:read', 'api_key:write',
                         'organization_integration:read', 'organization_integration:write']::text[];

-- Keys store the scopes that existed when they were made. A key holding every scope of the
-- release before this one (admin keys, keys made "with all scopes") is given the scopes this
-- release adds, so it can still do everything after the upgrade; narrower keys stay as they are.
UPDATE "api_keys"
   SET "scopes" = "scopes" || ARRAY(
         SELECT "added" FROM unnest(ARRAY['organization_integration:read', 'organization_integration:write']::text[]) AS "added"
          WHERE NOT "added" = ANY ("api_keys"."scopes")),
       "updated_at" = greatest(now(), "updated_at" + interval '1 millisecond')
 WHERE "scopes" @> ARRAY['organization:read', 'organization:write', 'member:read', 'member:write',
                         'user:read', 'user:write', 'api_key:read', 'api_key:write']::text[]
   AND NOT "scopes" @> ARRAY['organization_integration:read', 'organization_integration:write']::text[];

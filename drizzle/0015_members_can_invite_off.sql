-- `members_can_invite` was stored as true on every organization (its old default) while it had no
-- effect. It now lets plain members add members, so the old default is turned off rather than
-- widening, unasked, who may add people to every existing organization.
UPDATE "organizations"
   SET "settings" = jsonb_set("settings", '{members_can_invite}', 'false'::jsonb),
       "updated_at" = greatest(now(), "updated_at" + interval '1 millisecond')
 WHERE "settings"->>'members_can_invite' = 'true';

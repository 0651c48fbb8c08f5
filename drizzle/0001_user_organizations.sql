CREATE TABLE "user_organizations" (
	"user_id" uuid NOT NULL,
	"organization_id" uuid NOT NULL,
	"root_id" uuid NOT NULL,
	CONSTRAINT "user_organizations_user_id_organization_id_pk" PRIMARY KEY("user_id","organization_id")
);
--> statement-breakpoint
CREATE INDEX "user_organizations_org_idx" ON "user_organizations" USING btree ("organization_id");--> statement-breakpoint
-- Existing memberships: each reaches its organization and every descendant.
INSERT INTO "user_organizations" ("user_id", "organization_id", "root_id")
SELECT m."user_id", m."organization_id", m."root_id" FROM "memberships" m
UNION
SELECT m."user_id", d."id", d."root_id"
  FROM "organizations" d
  CROSS JOIN LATERAL unnest(d."ancestor_ids") AS ancestor(id)
  JOIN "memberships" m ON m."organization_id" = ancestor.id;

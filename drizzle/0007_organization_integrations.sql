CREATE TABLE "organization_integrations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"root_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"external_id" text NOT NULL,
	"display_name" text,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sealed_secrets" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets_updated_at" timestamp (3) with time zone,
	"environment_mapping" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by_user_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	CONSTRAINT "organization_integrations_kind_check" CHECK ("organization_integrations"."kind" ~ '^[a-z][a-z0-9_]{0,63}$')
);
--> statement-breakpoint
ALTER TABLE "organization_integrations" ADD CONSTRAINT "organization_integrations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "organization_integrations_external_id_live_key" ON "organization_integrations" USING btree ("organization_id","kind","external_id") WHERE "organization_integrations"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "organization_integrations_org_idx" ON "organization_integrations" USING btree ("organization_id","id");
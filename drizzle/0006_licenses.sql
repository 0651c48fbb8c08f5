CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"license_id" uuid NOT NULL,
	"organization_id" uuid,
	"root_id" uuid,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"hostname" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "licenses" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text,
	"plan" text NOT NULL,
	"seats" integer,
	"features" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"organization_id" uuid,
	"assigned_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	CONSTRAINT "licenses_seats_check" CHECK ("licenses"."seats" is null or "licenses"."seats" > 0),
	CONSTRAINT "licenses_assignment_check" CHECK (("licenses"."organization_id" is null) = ("licenses"."assigned_at" is null)
        and ("licenses"."deleted_at" is null or "licenses"."organization_id" is null))
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_license_id_licenses_id_fk" FOREIGN KEY ("license_id") REFERENCES "public"."licenses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "licenses" ADD CONSTRAINT "licenses_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_name_live_key" ON "deployments" USING btree ("license_id","name") WHERE "deployments"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "deployments_license_idx" ON "deployments" USING btree ("license_id","id");--> statement-breakpoint
CREATE INDEX "deployments_org_idx" ON "deployments" USING btree ("organization_id","license_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "licenses_organization_key" ON "licenses" USING btree ("organization_id") WHERE "licenses"."organization_id" is not null;--> statement-breakpoint
CREATE INDEX "licenses_plan_idx" ON "licenses" USING btree ("plan","id");
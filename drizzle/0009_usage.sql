CREATE TABLE "budgets" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"root_id" uuid NOT NULL,
	"monthly_limit" numeric,
	"currency" text DEFAULT 'USD' NOT NULL,
	"max_overage" numeric DEFAULT '0' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "budgets_amounts_check" CHECK ("budgets"."monthly_limit" >= 0 and "budgets"."max_overage" >= 0)
);
--> statement-breakpoint
CREATE TABLE "usage_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"root_id" uuid NOT NULL,
	"idempotency_key" text,
	"fingerprint" text NOT NULL,
	"record_count" integer NOT NULL,
	"total_cost" numeric NOT NULL,
	"total_bytes" bigint NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"organization_id" uuid NOT NULL,
	"storage_type" text NOT NULL,
	"day" timestamp (3) with time zone NOT NULL,
	"billing_type" text NOT NULL,
	"pipeline_id" text NOT NULL,
	"root_id" uuid NOT NULL,
	"bytes" bigint NOT NULL,
	"cost" numeric NOT NULL,
	"record_count" bigint NOT NULL,
	CONSTRAINT "usage_daily_pk" PRIMARY KEY("organization_id","storage_type","day","billing_type","pipeline_id")
);
--> statement-breakpoint
CREATE TABLE "usage_hourly" (
	"organization_id" uuid NOT NULL,
	"storage_type" text NOT NULL,
	"hour" timestamp (3) with time zone NOT NULL,
	"billing_type" text NOT NULL,
	"pipeline_id" text NOT NULL,
	"root_id" uuid NOT NULL,
	"bytes" bigint NOT NULL,
	"cost" numeric NOT NULL,
	"record_count" bigint NOT NULL,
	CONSTRAINT "usage_hourly_pk" PRIMARY KEY("organization_id","storage_type","hour","billing_type","pipeline_id")
);
--> statement-breakpoint
CREATE TABLE "usage_hourly_totals" (
	"organization_id" uuid NOT NULL,
	"storage_type" text NOT NULL,
	"hour" timestamp (3) with time zone NOT NULL,
	"billing_type" text NOT NULL,
	"root_id" uuid NOT NULL,
	"bytes" bigint NOT NULL,
	"cost" numeric NOT NULL,
	"record_count" bigint NOT NULL,
	CONSTRAINT "usage_hourly_totals_pk" PRIMARY KEY("organization_id","storage_type","hour","billing_type")
);
--> statement-breakpoint
CREATE TABLE "usage_month_totals" (
	"organization_id" uuid NOT NULL,
	"month" date NOT NULL,
	"root_id" uuid NOT NULL,
	"billable_cost" numeric NOT NULL,
	CONSTRAINT "usage_month_totals_organization_id_month_pk" PRIMARY KEY("organization_id","month")
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"batch_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"organization_id" uuid NOT NULL,
	"root_id" uuid NOT NULL,
	"storage_type" text NOT NULL,
	"pipeline_id" text,
	"billing_type" text NOT NULL,
	"bytes" bigint NOT NULL,
	"cost" numeric NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "usage_records_batch_id_seq_pk" PRIMARY KEY("batch_id","seq"),
	CONSTRAINT "usage_records_billing_type_check" CHECK ("usage_records"."billing_type" in ('billable', 'non_billable')),
	CONSTRAINT "usage_records_amounts_check" CHECK ("usage_records"."bytes" >= 0 and "usage_records"."cost" >= 0)
);
--> statement-breakpoint
ALTER TABLE "budgets" ADD CONSTRAINT "budgets_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_batches" ADD CONSTRAINT "usage_batches_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "usage_batches_idempotency_key" ON "usage_batches" USING btree ("organization_id","idempotency_key") WHERE "usage_batches"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "usage_hourly_org_hour_idx" ON "usage_hourly" USING btree ("organization_id","hour");--> statement-breakpoint
CREATE INDEX "usage_hourly_totals_org_hour_idx" ON "usage_hourly_totals" USING btree ("organization_id","hour");
import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The control-plane schema: the policy model, API tokens, the audit log, the change log (its id is the
 * global revision) and the CA store. Every constraint and index is named so later migrations can refer to
 * them. Objects reference their namespace by path (immutable once created) with ON DELETE RESTRICT: a
 * namespace can only go once it is empty, which the API enforces unless asked to cascade.
 */
export class Init1764777600000 implements MigrationInterface {
  name = 'Init1764777600000';

  async up(q: QueryRunner): Promise<void> {
    const common = `
      "id" uuid NOT NULL,
      "namespace" text NOT NULL,
      "name" text NOT NULL,
      "description" text NOT NULL DEFAULT '',
      "create_time" timestamptz NOT NULL DEFAULT now(),
      "update_time" timestamptz NOT NULL DEFAULT now(),
      "version" integer NOT NULL DEFAULT 1`;
    await q.query(`CREATE TABLE "namespaces" (${common},
      "default_action" text NOT NULL DEFAULT 'Reject',
      "pu_certificate_ttl_seconds" integer NOT NULL DEFAULT 3600,
      CONSTRAINT "pk_namespaces" PRIMARY KEY ("id"),
      CONSTRAINT "uq_namespaces_name" UNIQUE ("name"),
      CONSTRAINT "ck_namespaces_default_action" CHECK ("default_action" IN ('Allow', 'Reject')),
      CONSTRAINT "ck_namespaces_pu_certificate_ttl" CHECK ("pu_certificate_ttl_seconds" >= 300))`);
    await q.query(`CREATE INDEX "ix_namespaces_namespace" ON "namespaces" ("namespace")`);
    // The root namespace always exists; its parent is the empty string.
    await q.query(
      `INSERT INTO "namespaces" ("id", "namespace", "name") VALUES ('00000000-0000-4000-8000-000000000000', '', '/')`,
    );
    const nsFk = (t: string) =>
      `CONSTRAINT "fk_${t}_namespace" FOREIGN KEY ("namespace") REFERENCES "namespaces" ("name") ON DELETE RESTRICT`;

    await q.query(`CREATE TABLE "processing_units" (${common},
      "type" text NOT NULL,
      "associated_tags" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "ports" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "agent_id" uuid NULL,
      CONSTRAINT "pk_processing_units" PRIMARY KEY ("id"),
      CONSTRAINT "uq_processing_units_namespace_name" UNIQUE ("namespace", "name"),
      CONSTRAINT "ck_processing_units_type" CHECK ("type" IN ('HostService', 'LinuxProcess', 'Host', 'User')),
      ${nsFk('processing_units')})`);
    await q.query(`CREATE INDEX "ix_processing_units_agent_id" ON "processing_units" ("agent_id")`);

    await q.query(`CREATE TABLE "network_policies" (${common},
      "subject" jsonb NOT NULL,
      "object" jsonb NOT NULL,
      "action" text NOT NULL,
      "ports" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "apply_policy_mode" text NOT NULL DEFAULT 'Bidirectional',
      "encryption_enabled" boolean NOT NULL DEFAULT true,
      "logs_enabled" boolean NOT NULL DEFAULT false,
      "observation_enabled" boolean NOT NULL DEFAULT false,
      "propagate" boolean NOT NULL DEFAULT false,
      "fallback" boolean NOT NULL DEFAULT false,
      "disabled" boolean NOT NULL DEFAULT false,
      "expiration_time" timestamptz NULL,
      CONSTRAINT "pk_network_policies" PRIMARY KEY ("id"),
      CONSTRAINT "uq_network_policies_namespace_name" UNIQUE ("namespace", "name"),
      CONSTRAINT "ck_network_policies_action" CHECK ("action" IN ('Allow', 'Reject')),
      CONSTRAINT "ck_network_policies_apply_policy_mode"
        CHECK ("apply_policy_mode" IN ('Bidirectional', 'IncomingTraffic', 'OutgoingTraffic')),
      ${nsFk('network_policies')})`);

    await q.query(`CREATE TABLE "services" (${common},
      "ips" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "hosts" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "exposed_port" integer NOT NULL,
      "port" integer NOT NULL,
      "selectors" jsonb NOT NULL,
      "associated_tags" jsonb NOT NULL DEFAULT '[]'::jsonb,
      "type" text NOT NULL DEFAULT 'TCP',
      "tls_type" text NOT NULL DEFAULT 'None',
      "propagate" boolean NOT NULL DEFAULT false,
      CONSTRAINT "pk_services" PRIMARY KEY ("id"),
      CONSTRAINT "uq_services_namespace_name" UNIQUE ("namespace", "name"),
      CONSTRAINT "ck_services_exposed_port" CHECK ("exposed_port" BETWEEN 1 AND 65535),
      CONSTRAINT "ck_services_port" CHECK ("port" BETWEEN 1 AND 65535),
      ${nsFk('services')})`);

    await q.query(`CREATE TABLE "api_tokens" (
      "id" uuid NOT NULL,
      "name" text NOT NULL,
      "namespace" text NOT NULL,
      "role" text NOT NULL,
      "token_hash" text NOT NULL,
      "created_by" text NULL,
      "expires_at" timestamptz NULL,
      "create_time" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "pk_api_tokens" PRIMARY KEY ("id"),
      CONSTRAINT "ck_api_tokens_role" CHECK ("role" IN ('viewer', 'editor', 'admin')),
      ${nsFk('api_tokens')})`);
    await q.query(`CREATE UNIQUE INDEX "uq_api_tokens_token_hash" ON "api_tokens" ("token_hash")`);

    await q.query(`CREATE TABLE "audit_logs" (
      "id" bigserial NOT NULL,
      "at" timestamptz NOT NULL DEFAULT now(),
      "actor_token_id" uuid NULL,
      "actor_name" text NOT NULL,
      "request_id" text NULL,
      "action" text NOT NULL,
      "kind" text NOT NULL,
      "namespace" text NOT NULL,
      "object_id" text NULL,
      "object_name" text NULL,
      "before" jsonb NULL,
      "after" jsonb NULL,
      CONSTRAINT "pk_audit_logs" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "ix_audit_logs_namespace_at" ON "audit_logs" ("namespace", "at")`);

    await q.query(`CREATE TABLE "changes" (
      "id" bigserial NOT NULL,
      "kind" text NOT NULL,
      "namespace" text NOT NULL,
      "object_id" uuid NOT NULL,
      "op" text NOT NULL DEFAULT 'upsert',
      "at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "pk_changes" PRIMARY KEY ("id"),
      CONSTRAINT "ck_changes_op" CHECK ("op" IN ('upsert', 'delete')))`);
    await q.query(`CREATE INDEX "ix_changes_at" ON "changes" ("at")`);

    await q.query(`CREATE TABLE "certificate_authorities" (
      "id" uuid NOT NULL,
      "kind" text NOT NULL,
      "cert_pem" text NOT NULL,
      "sealed_key" text NOT NULL,
      "serial" text NOT NULL,
      "fingerprint" text NOT NULL,
      "not_after" timestamptz NOT NULL,
      "active" boolean NOT NULL DEFAULT true,
      "trusted_until" timestamptz NULL,
      "create_time" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "pk_certificate_authorities" PRIMARY KEY ("id"),
      CONSTRAINT "ck_certificate_authorities_kind" CHECK ("kind" IN ('root', 'issuing')))`);
    // At most one active CA of each kind: the database, not the code, makes a double bootstrap impossible.
    await q.query(
      `CREATE UNIQUE INDEX "uq_certificate_authorities_active_kind" ON "certificate_authorities" ("kind") WHERE "active"`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['certificate_authorities', 'changes', 'audit_logs', 'api_tokens', 'services', 'network_policies', 'processing_units', 'namespaces']) {
      await q.query(`DROP TABLE "${t}"`);
    }
  }
}

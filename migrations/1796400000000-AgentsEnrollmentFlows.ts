import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Agents, enrollment tokens, issued certificates (for the deny list) and flow reports. */
export class AgentsEnrollmentFlows1796400000000 implements MigrationInterface {
  name = 'AgentsEnrollmentFlows1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE agents (
      id uuid NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      hostname text NOT NULL,
      allowed_tags jsonb NOT NULL DEFAULT '[]',
      enrollment_token_id uuid NULL,
      revoked_at timestamptz NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NULL,
      connected boolean NOT NULL DEFAULT false,
      applied_revision bigint NULL,
      applied_hash text NULL,
      desired_revision bigint NULL,
      desired_hash text NULL,
      last_nack text NULL,
      version text NULL,
      capabilities jsonb NOT NULL DEFAULT '[]',
      CONSTRAINT pk_agents PRIMARY KEY (id))`);
    await q.query(`CREATE INDEX ix_agents_namespace ON agents (namespace)`);
    await q.query(`CREATE TABLE enrollment_tokens (
      id uuid NOT NULL,
      namespace text NOT NULL,
      token_hash text NOT NULL,
      tags jsonb NOT NULL DEFAULT '[]',
      max_uses integer NOT NULL DEFAULT 1,
      uses integer NOT NULL DEFAULT 0,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text NOT NULL,
      CONSTRAINT pk_enrollment_tokens PRIMARY KEY (id),
      CONSTRAINT ck_enrollment_tokens_uses CHECK (uses >= 0 AND uses <= max_uses))`);
    await q.query(`CREATE UNIQUE INDEX uq_enrollment_tokens_hash ON enrollment_tokens (token_hash)`);
    await q.query(`CREATE TABLE issued_certificates (
      serial text NOT NULL,
      kind text NOT NULL,
      agent_id uuid NULL,
      pu_id uuid NULL,
      namespace text NOT NULL,
      issued_at timestamptz NOT NULL DEFAULT now(),
      not_after timestamptz NOT NULL,
      revoked_at timestamptz NULL,
      CONSTRAINT pk_issued_certificates PRIMARY KEY (serial),
      CONSTRAINT ck_issued_certificates_kind CHECK (kind IN ('agent', 'pu')))`);
    await q.query(`CREATE INDEX ix_issued_certificates_agent ON issued_certificates (agent_id)`);
    await q.query(`CREATE INDEX ix_issued_certificates_pu ON issued_certificates (pu_id)`);
    // A revoked processing unit is never issued a certificate again — by id, and by (agent, name), so an agent
    // cannot shed a revoked unit from one hello and re-declare it under a fresh id in the next.
    await q.query(`CREATE TABLE pu_revocations (
      pu_id uuid NOT NULL,
      agent_id uuid NULL,
      pu_name text NULL,
      revoked_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT pk_pu_revocations PRIMARY KEY (pu_id))`);
    await q.query(`CREATE INDEX ix_pu_revocations_agent_name ON pu_revocations (agent_id, pu_name)`);
    await q.query(`CREATE TABLE flow_reports (
      id bigserial NOT NULL,
      agent_id uuid NOT NULL,
      namespace text NOT NULL,
      source_id text NULL,
      source_name text NULL,
      source_namespace text NULL,
      destination_id text NULL,
      destination_name text NULL,
      destination_namespace text NULL,
      service_id text NULL,
      port text NOT NULL,
      direction text NOT NULL,
      action text NOT NULL,
      policy_id text NULL,
      policy_name text NULL,
      reason text NOT NULL,
      count integer NOT NULL,
      bytes_in bigint NOT NULL,
      bytes_out bigint NOT NULL,
      duration_ms bigint NOT NULL,
      first_seen timestamptz NOT NULL,
      last_seen timestamptz NOT NULL,
      observed boolean NOT NULL DEFAULT false,
      CONSTRAINT pk_flow_reports PRIMARY KEY (id))`);
    await q.query(`CREATE INDEX ix_flow_reports_ns_time ON flow_reports (namespace, last_seen)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE flow_reports`);
    await q.query(`DROP TABLE pu_revocations`);
    await q.query(`DROP TABLE issued_certificates`);
    await q.query(`DROP TABLE enrollment_tokens`);
    await q.query(`DROP TABLE agents`);
  }
}

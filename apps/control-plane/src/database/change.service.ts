import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { pglitePoolOf } from './data-source';

export const CHANGES_CHANNEL = 'palisade_changes';

/** Kinds of object whose changes agents care about (the lead adds agent/certificate kinds). */
export type ChangeKind = 'namespace' | 'processingunit' | 'networkaccesspolicy' | 'service' | (string & {});

export interface ChangeInput {
  kind: ChangeKind;
  namespace: string;
  objectId: string;
  op?: 'upsert' | 'delete';
}

/** A committed change as listeners see it. `revision` is the `changes.id` (monotonic across the database). */
export interface ChangeEvent {
  revision: number;
  kind: string;
  namespace: string;
  objectId: string;
  op: 'upsert' | 'delete';
  at: Date;
}

type Row = { id: string; kind: string; namespace: string; object_id: string; op: string; at: Date | string };

function toEvent(r: Row): ChangeEvent {
  return {
    revision: Number(r.id),
    kind: r.kind,
    namespace: r.namespace,
    objectId: r.object_id,
    op: r.op === 'delete' ? 'delete' : 'upsert',
    at: new Date(r.at),
  };
}

/**
 * Records changes and fans committed ones out to every process on the database.
 *
 * The NOTIFY payload is only the revision: Postgres delivers it on commit (never for a rolled-back
 * transaction), and each listener reads that one row back. We do not poll "everything after the last id
 * seen": bigserial ids are handed out in order but committed out of order, so such a poll can skip one.
 * Postgres: a dedicated pg.Client (not from the pool — LISTEN is per session) with reconnect.
 * PGlite: PGlite's own listen(), called while holding the single session so it never lands in a transaction.
 */
@Injectable()
export class ChangeService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(ChangeService.name);
  private readonly listeners = new Set<(c: ChangeEvent) => void>();
  private client: Client | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly dataSource: DataSource) {}

  /** Inside the caller's transaction: writes the change row and queues the notification. Returns the revision. */
  async record(em: EntityManager, change: ChangeInput): Promise<number> {
    const rows = (await em.query(
      'INSERT INTO changes (kind, namespace, object_id, op) VALUES ($1, $2, $3, $4) RETURNING id',
      [change.kind, change.namespace, change.objectId, change.op ?? 'upsert'],
    )) as { id: string }[];
    const id = rows[0].id;
    await em.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, String(id)]);
    return Number(id);
  }

  /** Subscribes to committed changes (from any replica). Returns the unsubscribe function. */
  onChange(cb: (c: ChangeEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The newest committed revision (0 on an empty database). */
  async currentRevision(em?: EntityManager): Promise<number> {
    const rows = (await (em ?? this.dataSource).query('SELECT coalesce(max(id), 0) AS id FROM changes')) as {
      id: string;
    }[];
    return Number(rows[0].id);
  }

  async onModuleInit(): Promise<void> {
    const pool = pglitePoolOf(this.dataSource);
    if (pool) {
      this.unlisten = await pool.withSession((db) =>
        db.listen(CHANGES_CHANNEL, (payload) => {
          void pool
            .withSession((s) => s.query<Row>('SELECT * FROM changes WHERE id = $1', [payload]))
            .then((r) => this.emit(r.rows[0]))
            .catch((e: Error) => this.log.warn(`change ${payload} could not be read: ${e.message}`));
        }),
      );
      return;
    }
    await this.connectListener();
  }

  private async connectListener(): Promise<void> {
    const opts = this.dataSource.options as { url?: string };
    const client = new Client({ connectionString: opts.url, application_name: 'palisade-change-listener' });
    client.on('error', (e) => {
      this.log.warn(`change listener connection lost: ${e.message}`);
      this.scheduleReconnect();
    });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANGES_CHANNEL || !msg.payload) {
        return;
      }
      client
        .query<Row>('SELECT * FROM changes WHERE id = $1', [msg.payload])
        .then((r) => this.emit(r.rows[0]))
        .catch((e: Error) => this.log.warn(`change ${msg.payload} could not be read: ${e.message}`));
    });
    await client.connect();
    await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    this.client = client;
  }

  private scheduleReconnect(): void {
    const old = this.client;
    this.client = null;
    void old?.end().catch(() => undefined);
    if (this.stopped || this.retry) {
      return;
    }
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connectListener().catch((e: Error) => {
        this.log.warn(`change listener reconnect failed: ${e.message}`);
        this.scheduleReconnect();
      });
    }, 1000);
  }

  private emit(row: Row | undefined): void {
    if (!row) {
      return;
    }
    const ev = toEvent(row);
    for (const cb of this.listeners) {
      try {
        cb(ev);
      } catch (e) {
        this.log.error(`change listener threw: ${(e as Error).message}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) {
      clearTimeout(this.retry);
    }
    const pool = pglitePoolOf(this.dataSource);
    if (this.unlisten && pool && this.dataSource.isInitialized) {
      const un = this.unlisten;
      this.unlisten = null;
      await pool.withSession(() => un()).catch(() => undefined);
    }
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}

// The tunnel: splices two connected sockets into one flow, like a good TCP proxy does.
//
// - Half-close (ghostunnel's "half-close return traffic", HAProxy's shutr/shutw): each direction ends on
//   its own. When one side's readable ends (FIN, or TLS close_notify) we end() the other side's writable
//   after the queued bytes flush, and keep carrying the opposite direction. Both sockets must be created
//   with `allowHalfOpen: true` or Node would end the writable for us.
// - Backpressure: write() until it reports a full buffer, pause the source, resume on 'drain' — the
//   same as stream.pipe() without its extra listeners and per-chunk event churn.
// - Deadlines: an idle timeout on both sockets (activity in either direction re-arms both, because each
//   byte is read on one and written on the other); once a direction has ended the timeout shrinks to the
//   half-closed one (HAProxy `timeout client-fin`).
// - Errors: a reset or error on one side destroys the other (Envoy closes the downstream when the
//   upstream resets; there is no useful half of a broken flow).
import type { Socket } from 'node:net';
import { HALF_CLOSED_TIMEOUT_MS, IDLE_TIMEOUT_MS, MAX_FLOWS } from './limits';
import type { CloseCause, FlowEndCallback, FlowInfo, FlowRecord } from './types';

export interface TunnelTimeouts {
  idleMs: number;
  halfClosedMs: number;
}

/** An open flow: the two sockets and the counters the record is made from at close. */
export class Flow {
  bytesUp = 0;
  bytesDown = 0;
  private cause: CloseCause | null = null;
  private closedSockets = 0;
  private endedDirections = 0;
  private finished = false;

  constructor(
    readonly info: FlowInfo,
    /** The side that initiated the flow (the application's client, or the client agent). */
    readonly client: Socket,
    /** The side towards the server (the upstream, or the application). */
    readonly server: Socket,
    private readonly timeouts: TunnelTimeouts,
    private readonly onDone: (flow: Flow, record: FlowRecord) => void,
  ) {}

  /** Wires both directions and starts reading. Called once, with both sockets connected. */
  start(): void {
    const { client, server } = this;
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.pump(client, server, true);
    this.pump(server, client, false);
    const onTimeout = (): void => this.close('idle_timeout');
    client.setTimeout(this.timeouts.idleMs, onTimeout);
    server.setTimeout(this.timeouts.idleMs, onTimeout);
    client.on('close', (hadError) => this.onSocketClose(server, hadError));
    server.on('close', (hadError) => this.onSocketClose(client, hadError));
    // 'error' always precedes 'close'; the handler only keeps the error from becoming uncaught.
    client.on('error', () => this.markError());
    server.on('error', () => this.markError());
    client.resume();
    server.resume();
  }

  /** Closes the flow now (both sockets destroyed); the record carries `cause`. */
  close(cause: CloseCause): void {
    if (this.cause === null) {
      this.cause = cause;
    }
    this.client.destroy();
    this.server.destroy();
  }

  private pump(src: Socket, dst: Socket, up: boolean): void {
    // Write coalescing: a TLS socket hands us one ≤16 KiB record per 'data' event, often several in one
    // read. Corking turns them into one writev (one syscall, and on the TLS side fewer, fuller records)
    // instead of one write per chunk. The uncork must wait for the end of the event loop's poll phase
    // (setImmediate), not the end of the tick: Node delivers each decrypted record through its own
    // MakeCallback, which drains the nextTick queue after every record — measured, a nextTick uncork
    // coalesced nothing (bench/README.md). The check phase follows the poll phase directly, so a lone
    // small message waits only for the reads of the same loop iteration.
    let corked = false;
    const uncork = (): void => {
      corked = false;
      dst.uncork();
    };
    src.on('data', (chunk: Buffer) => {
      if (up) {
        this.bytesUp += chunk.length;
      } else {
        this.bytesDown += chunk.length;
      }
      if (!corked) {
        corked = true;
        dst.cork();
        setImmediate(uncork);
      }
      if (!dst.write(chunk)) {
        src.pause();
      }
    });
    dst.on('drain', () => src.resume());
    src.on('end', () => {
      dst.end();
      this.endedDirections++;
      if (this.endedDirections === 1) {
        const t = Math.min(this.timeouts.idleMs, this.timeouts.halfClosedMs);
        src.setTimeout(t);
        dst.setTimeout(t);
      }
    });
  }

  private markError(): void {
    if (this.cause === null) {
      this.cause = 'error';
    }
  }

  private onSocketClose(other: Socket, hadError: boolean): void {
    // A clean close means both directions of this socket are done, so the other socket is flushing its
    // last bytes and closes by itself; after an error or a reset there is nothing left to carry.
    if (hadError || this.endedDirections < 2) {
      if (hadError) {
        this.markError();
      }
      other.destroy();
    }
    this.closedSockets++;
    if (this.closedSockets === 2 && !this.finished) {
      this.finished = true;
      const now = Date.now();
      this.onDone(this, {
        ...this.info,
        verdict: 'Accept',
        refusal: null,
        bytesUp: this.bytesUp,
        bytesDown: this.bytesDown,
        durationMs: now - this.info.startedAt,
        closeCause: this.cause ?? 'completed',
      });
    }
  }
}

export interface FlowTableOptions {
  maxFlows?: number;
  idleTimeoutMs?: number;
  halfClosedTimeoutMs?: number;
  /** Called once per flow when both of its sockets have closed, and for every refusal. */
  onFlowEnd?: FlowEndCallback;
}

/**
 * The open flows of one or more listeners, with the concurrency cap they share. Give the inbound and
 * outbound listeners one table to cap the agent as a whole, or one each to cap them apart.
 */
export class FlowTable {
  readonly maxFlows: number;
  private readonly flows = new Map<number, Flow>();
  private readonly timeouts: TunnelTimeouts;
  private readonly onFlowEnd: FlowEndCallback | undefined;
  private nextId = 1;
  private reserved = 0;

  constructor(opts: FlowTableOptions = {}) {
    this.maxFlows = opts.maxFlows ?? MAX_FLOWS;
    this.timeouts = {
      idleMs: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      halfClosedMs: opts.halfClosedTimeoutMs ?? HALF_CLOSED_TIMEOUT_MS,
    };
    this.onFlowEnd = opts.onFlowEnd;
  }

  /** Open flows plus slots reserved by connections still being set up. */
  get size(): number {
    return this.flows.size + this.reserved;
  }

  /** Number of fully established flows. */
  get open(): number {
    return this.flows.size;
  }

  allocateId(): number {
    return this.nextId++;
  }

  /**
   * Takes a slot for a connection being set up (handshake, dial); false when the cap is reached. Every
   * successful reserve() is matched by exactly one release() or start().
   */
  reserve(): boolean {
    if (this.flows.size + this.reserved >= this.maxFlows) {
      return false;
    }
    this.reserved++;
    return true;
  }

  release(): void {
    this.reserved--;
  }

  /** Turns a reserved slot into an open flow and starts carrying bytes. */
  start(info: FlowInfo, client: Socket, server: Socket): Flow {
    this.reserved--;
    const flow = new Flow(info, client, server, this.timeouts, (f, record) => {
      this.flows.delete(f.info.id);
      this.report(record);
    });
    this.flows.set(info.id, flow);
    flow.start();
    return flow;
  }

  /** Hands a record to `onFlowEnd`; a throwing callback must not take the datapath down. */
  report(record: FlowRecord): void {
    if (!this.onFlowEnd) {
      return;
    }
    try {
      this.onFlowEnd(record);
    } catch {
      // The reporter's bug is not the flow's problem; it is already closed.
    }
  }

  /**
   * Closes every open flow for which `predicate(info)` is true (a rule set that no longer allows it, a
   * revoked peer) and returns how many. Their records carry closeCause `closed_by_agent`.
   */
  closeFlows(predicate: (info: FlowInfo) => boolean): number {
    let n = 0;
    for (const flow of [...this.flows.values()]) {
      if (predicate(flow.info)) {
        flow.close('closed_by_agent');
        n++;
      }
    }
    return n;
  }

  /** The open flows' descriptions (a snapshot). */
  list(): FlowInfo[] {
    return [...this.flows.values()].map((f) => f.info);
  }
}

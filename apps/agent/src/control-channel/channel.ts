import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  CONTROL_CHANNEL_PATH,
  MAX_MESSAGE_BYTES,
  parseServerMessage,
  ProtocolError,
  type AgentMessage,
  type ServerMessage,
} from '@palisade/protocol';
import { PING_INTERVAL_MS, RECONNECT_BASE_MS, RECONNECT_MAX_MS } from '../defaults';

export interface ChannelCredentials {
  keyPem: string;
  certPem: string;
  bundle: string[];
}

export interface ControlChannelOptions {
  url: string;
  /** Read on every (re)connect, so a renewed certificate or a rotated bundle is used from then on. */
  credentials: () => ChannelCredentials;
  /** The hello to send on every connect (it carries the revision the agent has applied). */
  hello: () => AgentMessage;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

/**
 * The agent's single WebSocket to the control plane, authenticated by the agent's certificate (mutual TLS on the
 * upgrade; no shared secret). It reconnects forever with full-jitter exponential backoff (the AWS architecture
 * blog's "Exponential Backoff And Jitter": spreads a fleet's reconnects after a control-plane restart), says hello
 * with its applied revision on each connect, validates every inbound message, and closes the socket on a
 * malformed one (the next connect starts clean). Events: 'connected', 'disconnected', 'message' (ServerMessage).
 */
export class ControlChannel extends EventEmitter {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private lastPong = 0;
  connected = false;
  lastConnectedAt: Date | null = null;
  lastError: string | null = null;

  constructor(private readonly o: ControlChannelOptions) {
    super();
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.stopPing();
    this.ws?.terminate();
    this.ws = null;
  }

  /** Sends a message if connected; returns false (and drops it) otherwise — callers keep what must be retried. */
  send(m: AgentMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.ws.send(JSON.stringify(m));
    return true;
  }

  /** Drops the current connection and reconnects at once (e.g. after the agent's certificate was renewed). */
  reconnectNow(): void {
    this.attempt = 0;
    this.ws?.terminate();
  }

  private connect(): void {
    if (this.stopped) {
      return;
    }
    const c = this.o.credentials();
    const ws = new WebSocket(new URL(CONTROL_CHANNEL_PATH, this.o.url).toString().replace(/^http/, 'ws'), {
      key: c.keyPem,
      cert: c.certPem,
      ca: c.bundle,
      minVersion: 'TLSv1.3',
      maxPayload: MAX_MESSAGE_BYTES,
      handshakeTimeout: 5_000,
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      this.connected = true;
      this.lastConnectedAt = new Date();
      this.lastError = null;
      ws.send(JSON.stringify(this.o.hello()));
      this.startPing(ws);
      this.emit('connected');
    });
    ws.on('message', (data: WebSocket.RawData) => {
      let m: ServerMessage;
      try {
        m = parseServerMessage(data as Buffer);
      } catch (e) {
        this.o.log?.('control_channel_bad_message', { error: e instanceof ProtocolError ? e.message : String(e) });
        ws.close(1008, 'malformed message');
        return;
      }
      if (m.type === 'ping') {
        this.send({ type: 'pong', ts: m.ts });
        return;
      }
      if (m.type === 'pong') {
        this.lastPong = Date.now();
        return;
      }
      this.emit('message', m);
    });
    ws.on('error', (e: Error) => {
      this.lastError = e.message;
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const was = this.connected;
      this.connected = false;
      this.stopPing();
      if (this.ws === ws) {
        this.ws = null;
      }
      if (was) {
        this.o.log?.('control_channel_closed', { code, reason: reason.toString() });
        this.emit('disconnected');
      } else {
        this.o.log?.('control_channel_connect_failed', { error: this.lastError ?? `closed ${code}` });
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.stopped) {
      return;
    }
    const cap = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    this.timer = setTimeout(() => this.connect(), Math.random() * cap);
    this.timer.unref?.();
  }

  private startPing(ws: WebSocket): void {
    this.lastPong = Date.now();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPong > 2.5 * PING_INTERVAL_MS) {
        this.o.log?.('control_channel_ping_timeout');
        ws.terminate();
        return;
      }
      this.send({ type: 'ping', ts: Date.now() });
    }, PING_INTERVAL_MS);
    this.pingTimer.unref?.();
  }

  private stopPing(): void {
    if (this.pingTimer) {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }
}

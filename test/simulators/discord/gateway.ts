/**
 * A fake Discord gateway (API v10, JSON text frames, no compression) on the `ws` package:
 * HELLO on connect, READY and GUILD_CREATE after IDENTIFY, ACK for every heartbeat, RESUMED
 * after RESUME, and `dispatch` for the events a test sends. Sequence numbers increase on
 * every dispatch, as discord.js expects.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

export interface IdentifyPayload {
  token: string;
  intents: number;
  properties: Record<string, string>;
  compress?: boolean;
  shard?: [number, number];
}

export interface GatewayHooks {
  ready(sessionId: string): Record<string, unknown>;
  /** GUILD_CREATE payloads sent right after READY. */
  guilds(): Array<Record<string, unknown>>;
  token: string;
}

const GUILD_MEMBERS = 1 << 1;
const GUILD_PRESENCES = 1 << 8;
const MESSAGE_CONTENT = 1 << 15;

const OP = { dispatch: 0, heartbeat: 1, identify: 2, resume: 6, reconnect: 7, invalidSession: 9, hello: 10, heartbeatAck: 11 } as const;

export class FakeGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Set<WebSocket>();
  private sequence = 0;
  readonly identifies: IdentifyPayload[] = [];
  heartbeats = 0;
  resumes = 0;
  /** Privileged intents the application may use (the Developer Portal switches); others close with 4014. */
  allowedPrivilegedIntents = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
  /** How long READY follows a good identify (Discord's takes a moment; a client may stop meanwhile). */
  readyDelayMs = 0;

  constructor(private readonly hooks: GatewayHooks) {
    this.wss.on('connection', (socket) => this.accept(socket));
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
  }

  private send(socket: WebSocket, payload: Record<string, unknown>): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
  }

  private accept(socket: WebSocket): void {
    this.send(socket, { op: OP.hello, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    socket.on('message', (raw) => {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a Buffer: ws's default binaryType is 'nodebuffer'
      const frame = JSON.parse(String(raw)) as { op: number; d: unknown };
      switch (frame.op) {
        case OP.heartbeat:
          this.heartbeats += 1;
          this.send(socket, { op: OP.heartbeatAck });
          break;
        case OP.identify: {
          const identify = frame.d as IdentifyPayload;
          this.identifies.push(identify);
          if (identify.token !== this.hooks.token) {
            socket.close(4004, 'Authentication failed.');
            return;
          }
          const privileged = identify.intents & (GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT);
          if ((privileged & ~this.allowedPrivilegedIntents) !== 0) {
            socket.close(4014, 'Disallowed intent(s).');
            return;
          }
          this.sessions.add(socket);
          const ready = () => {
            this.sendDispatch(socket, 'READY', this.hooks.ready(randomUUID().replace(/-/g, '')));
            for (const guild of this.hooks.guilds()) this.sendDispatch(socket, 'GUILD_CREATE', guild);
          };
          if (this.readyDelayMs > 0) setTimeout(ready, this.readyDelayMs).unref();
          else ready();
          break;
        }
        case OP.resume:
          this.resumes += 1;
          this.sessions.add(socket);
          this.sendDispatch(socket, 'RESUMED', {});
          break;
        default:
          // Presence and voice updates: nothing to do in a fake.
          break;
      }
    });
    socket.on('close', () => this.sessions.delete(socket));
  }

  private sendDispatch(socket: WebSocket, event: string, data: unknown): void {
    this.sequence += 1;
    this.send(socket, { op: OP.dispatch, t: event, s: this.sequence, d: data });
  }

  /** Sends a dispatch event to every identified session; returns how many received it. */
  dispatch(event: string, data: unknown): number {
    let delivered = 0;
    for (const socket of this.sessions) {
      this.sendDispatch(socket, event, data);
      delivered += 1;
    }
    return delivered;
  }

  get connected(): number {
    return this.sessions.size;
  }

  /** Closes every connection as Discord does before maintenance (the client resumes). */
  dropConnections(code = 4000): void {
    for (const socket of this.sessions) socket.close(code, 'Unknown error');
  }

  async close(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

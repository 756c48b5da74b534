/**
 * A fake Slack on 127.0.0.1 for tests: the Web API methods IQSP calls (in Slack's wire
 * format: form-encoded requests, `{ ok, … }` answers, bot token in `Authorization: Bearer`),
 * the external upload URL, private file downloads (the bot token is required; without it
 * Slack answers 200 with an HTML login page, and so does this fake), `response_url`s, and a
 * Socket Mode WebSocket. Every call is recorded.
 *
 * It also builds the requests Slack sends an app — Events API, slash commands, interactivity —
 * from the JSON fixtures in test/fixtures/slack/, signed like Slack signs them (v0 HMAC-SHA256).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery, stringify as formEncode } from 'node:querystring';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeSlackUser {
  id: string;
  name: string;
  realName?: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
}

export interface FakeSlackWorkspace {
  teamId: string;
  teamName: string;
  botToken: string;
  botUserId: string;
  botId: string;
  appId: string;
  users: FakeSlackUser[];
}

export interface SlackCall {
  method: string;
  /** Form fields as sent (nested values such as `blocks` and `view` are JSON strings). */
  args: Record<string, string>;
  /** The token the call carried (header or body), if any. */
  token: string | undefined;
  /** The workspace that token belongs to. */
  teamId: string | undefined;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
}

export interface FileDownload {
  fileId: string;
  authorized: boolean;
}

export interface StoredFile {
  id: string;
  teamId: string;
  name: string;
  mimetype: string;
  bytes: Buffer;
}

export interface UploadedFile {
  fileId: string;
  filename: string;
  bytes: Buffer;
  /** Set once files.completeUploadExternal shared it. */
  channelId?: string;
  initialComment?: string;
}

export interface PendingInstall {
  code: string;
  workspace: FakeSlackWorkspace;
  installerUserId: string;
}

type Json = Record<string, unknown>;

const FIXTURES = new URL('../../test/fixtures/slack/', import.meta.url);

function send(res: ServerResponse, status: number, body: Json | string, contentType = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly downloads: FileDownload[] = [];
  readonly uploads = new Map<string, UploadedFile>();
  readonly workspaces = new Map<string, FakeSlackWorkspace>();
  /** Socket Mode acknowledgements received, by envelope id. */
  readonly socketAcks = new Map<string, Json>();
  oauthClient: { clientId: string; clientSecret: string } | undefined;
  appToken: string | undefined;

  private readonly files = new Map<string, StoredFile>();
  private readonly installs = new Map<string, PendingInstall>();
  private readonly failures = new Map<string, string[]>();
  private readonly sockets = new Set<WebSocket>();
  private readonly socketServer = new WebSocketServer({ noServer: true });
  private nextTs = 1_700_000_000_000_100;
  private nextId = 1;
  /** Each open view's current hash: Slack refuses an update that names an older one (`hash_conflict`). */
  private readonly viewHashes = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return socket.destroy();
      this.socketServer.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('message', (data) => {
          const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: Json };
          if (message.envelope_id) this.socketAcks.set(message.envelope_id, message.payload ?? {});
        });
        ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0IQSP' } }));
      });
    });
  }

  /** Starts the fake on 127.0.0.1 with one workspace (T0001 "Acme"). */
  static async start(): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => send(res, 500, { ok: false, error: String(error) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeSlack(server, `http://127.0.0.1:${port}`);
    fake.addWorkspace(defaultWorkspace());
    return fake;
  }

  /** SLACK_API_URL for the app. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  get workspace(): FakeSlackWorkspace {
    return this.workspaces.get('T0001')!;
  }

  addWorkspace(workspace: FakeSlackWorkspace): void {
    this.workspaces.set(workspace.teamId, workspace);
  }

  /** A file as Slack describes it in events and `file_input` submissions; downloads need the workspace's bot token. */
  addFile(teamId: string, name: string, mimetype: string, bytes: Buffer): Json {
    const id = `F${String(this.nextId++).padStart(8, '0')}`;
    this.files.set(id, { id, teamId, name, mimetype, bytes });
    return this.fileObject(this.files.get(id)!);
  }

  /** The next `oauth.v2.access` with `code` installs `workspace`. */
  expectInstall(code: string, workspace: FakeSlackWorkspace, installerUserId = 'U0ADMIN'): void {
    this.installs.set(code, { code, workspace, installerUserId });
  }

  /** The next call to `method` answers `{ ok: false, error }`. */
  failNext(method: string, error: string): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }

  /** A loopback `response_url` for a slash command or interactive payload. */
  responseUrl(): string {
    return `${this.url}/respond/${randomUUID()}`;
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Waits until a call to `method` satisfies `predicate` (default: any call). */
  async waitForCall(method: string, predicate: (call: SlackCall) => boolean = () => true, timeoutMs = 10_000): Promise<SlackCall> {
    return waitFor(() => this.calls.find((c) => c.method === method && predicate(c)), `a ${method} call`, timeoutMs, () => this.describe());
  }

  async waitForResponse(predicate: (post: ResponseUrlPost) => boolean = () => true, timeoutMs = 10_000): Promise<ResponseUrlPost> {
    return waitFor(() => this.responses.find(predicate), 'a response_url post', timeoutMs, () => this.describe());
  }

  /** Sends a Socket Mode envelope to the connected app and waits for its ack. */
  async sendEnvelope(type: 'events_api' | 'slash_commands' | 'interactive', payload: Json, timeoutMs = 10_000): Promise<Json> {
    const envelopeId = randomUUID();
    const socket = await waitFor(() => [...this.sockets][0], 'a Socket Mode connection', timeoutMs);
    socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api' }));
    return waitFor(() => this.socketAcks.get(envelopeId), `the ack of envelope ${envelopeId}`, timeoutMs);
  }

  /** Every recorded call in order, one per line, for failure messages. */
  describe(): string {
    return this.calls.map((c) => `${c.method} ${JSON.stringify(c.args).slice(0, 300)}`).join('\n');
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.socketServer.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) return this.api(url.pathname.slice('/api/'.length), req, res);
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) return this.upload(url.pathname.slice('/upload/'.length), req, res);
    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      this.responses.push({ id: url.pathname.slice('/respond/'.length), body: JSON.parse((await readBody(req)).toString('utf8')) as Json });
      return send(res, 200, 'ok', 'text/plain');
    }
    if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) return this.download(url.pathname, req, res);
    send(res, 404, { ok: false, error: 'unknown_route' });
  }

  private async api(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    const args = (req.headers['content-type'] ?? '').startsWith('application/json')
      ? Object.fromEntries(Object.entries(JSON.parse(raw || '{}') as Json).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
      : (parseQuery(raw) as Record<string, string>);
    const token = bearer(req) ?? args.token;
    const workspace = [...this.workspaces.values()].find((w) => w.botToken === token);
    this.calls.push({ method, args, token, teamId: workspace?.teamId });

    const failure = this.failures.get(method)?.shift();
    if (failure) return send(res, 200, { ok: false, error: failure });

    if (method === 'oauth.v2.access') return send(res, 200, this.oauthAccess(args));
    if (method === 'apps.connections.open') {
      if (!this.appToken || token !== this.appToken) return send(res, 200, { ok: false, error: 'invalid_auth' });
      return send(res, 200, { ok: true, url: `${this.url.replace('http', 'ws')}/socket?ticket=${randomUUID()}` });
    }
    if (!workspace) return send(res, 200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
    send(res, 200, this.answer(method, args, workspace));
  }

  private answer(method: string, args: Record<string, string>, ws: FakeSlackWorkspace): Json {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: `https://${ws.teamName.toLowerCase()}.slack.com/`, team: ws.teamName, user: 'iqsp', team_id: ws.teamId, user_id: ws.botUserId, bot_id: ws.botId, is_enterprise_install: false };
      case 'users.info': {
        const user = ws.users.find((u) => u.id === args.user);
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: user.id,
            team_id: ws.teamId,
            name: user.name,
            deleted: false,
            real_name: user.realName ?? user.name,
            is_admin: user.isAdmin ?? false,
            is_owner: user.isOwner ?? false,
            is_primary_owner: false,
            is_restricted: false,
            is_ultra_restricted: false,
            is_bot: user.isBot ?? false,
            is_app_user: false,
            profile: { real_name: user.realName ?? user.name, display_name: user.name, team: ws.teamId },
          },
        };
      }
      case 'conversations.open':
        if (!args.users) return { ok: false, error: 'users_list_not_supplied' };
        return { ok: true, channel: { id: `D${args.users.replace(/^U/, '')}` } };
      case 'chat.postMessage': {
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
        const ts = this.ts();
        return {
          ok: true,
          channel: args.channel,
          ts,
          message: { type: 'message', subtype: 'bot_message', text: args.text, user: ws.botUserId, bot_id: ws.botId, ts, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) },
        };
      }
      case 'chat.postEphemeral':
        if (!args.channel || !args.user) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: this.ts() };
      case 'chat.update':
        if (!args.channel || !args.ts) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text, message: { text: args.text, user: ws.botUserId, bot_id: ws.botId } };
      case 'views.open':
      case 'views.update': {
        if (method === 'views.open' && !args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (method === 'views.update' && args.hash && args.view_id && this.viewHashes.has(args.view_id) && this.viewHashes.get(args.view_id) !== args.hash)
          return { ok: false, error: 'hash_conflict' };
        const view = JSON.parse(args.view ?? '{}') as Json;
        const id = args.view_id ?? `V${String(this.nextId++).padStart(8, '0')}`;
        const hash = `${Date.now()}.${String(this.nextId++).padStart(8, '0')}`;
        this.viewHashes.set(id, hash);
        return { ok: true, view: { id, team_id: ws.teamId, state: { values: {} }, hash, ...view } };
      }
      case 'files.getUploadURLExternal': {
        if (!args.filename || !args.length) return { ok: false, error: 'invalid_arguments' };
        const fileId = `F${String(this.nextId++).padStart(8, '0')}`;
        this.uploads.set(fileId, { fileId, filename: args.filename, bytes: Buffer.alloc(0) });
        return { ok: true, upload_url: `${this.url}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal': {
        const files = JSON.parse(args.files ?? '[]') as Array<{ id: string; title?: string }>;
        for (const f of files) {
          const upload = this.uploads.get(f.id);
          if (!upload || upload.bytes.length === 0) return { ok: false, error: 'file_not_found' };
          upload.channelId = args.channel_id;
          upload.initialComment = args.initial_comment;
        }
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? this.uploads.get(f.id)!.filename })) };
      }
      case 'files.info': {
        const file = this.files.get(args.file ?? '');
        if (!file || file.teamId !== ws.teamId) return { ok: false, error: 'file_not_found' };
        return { ok: true, file: this.fileObject(file) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private oauthAccess(args: Record<string, string>): Json {
    if (!this.oauthClient || args.client_id !== this.oauthClient.clientId || args.client_secret !== this.oauthClient.clientSecret)
      return { ok: false, error: 'invalid_client_id' };
    const install = this.installs.get(args.code ?? '');
    if (!install) return { ok: false, error: 'invalid_code' };
    this.installs.delete(install.code);
    const ws = install.workspace;
    this.addWorkspace(ws);
    return {
      ok: true,
      app_id: ws.appId,
      authed_user: { id: install.installerUserId },
      scope: 'commands,chat:write,files:read',
      token_type: 'bot',
      access_token: ws.botToken,
      bot_user_id: ws.botUserId,
      team: { id: ws.teamId, name: ws.teamName },
      enterprise: null,
      is_enterprise_install: false,
    };
  }

  private async upload(fileId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const upload = this.uploads.get(fileId);
    if (!upload) return send(res, 404, 'no such upload', 'text/plain');
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://upload', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
      const part = [...form.values()].find((v) => typeof v !== 'string');
      upload.bytes = part !== undefined && typeof part !== 'string' ? Buffer.from(await part.arrayBuffer()) : Buffer.alloc(0);
    } else upload.bytes = raw;
    send(res, 200, `OK - ${upload.bytes.length}`, 'text/plain');
  }

  private download(pathname: string, req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/files-pri\/(T[A-Z0-9]+)-(F[A-Z0-9]+)\//.exec(pathname);
    const file = match ? this.files.get(match[2]!) : undefined;
    const ws = file ? this.workspaces.get(file.teamId) : undefined;
    const authorized = Boolean(ws && bearer(req) === ws.botToken);
    if (file) this.downloads.push({ fileId: file.id, authorized });
    if (!file) return send(res, 404, 'not found', 'text/plain');
    // Slack's answer to a download without a valid token: its login page, with status 200.
    if (!authorized) return send(res, 200, '<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>', 'text/html; charset=utf-8');
    res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.length) });
    res.end(file.bytes);
  }

  private fileObject(file: StoredFile): Json {
    const base = `${this.url}/files-pri/${file.teamId}-${file.id}`;
    const filetype = file.name.split('.').pop() ?? 'binary';
    return {
      id: file.id,
      created: Math.floor(Date.now() / 1000),
      timestamp: Math.floor(Date.now() / 1000),
      name: file.name,
      title: file.name,
      mimetype: file.mimetype,
      filetype,
      pretty_type: filetype.toUpperCase(),
      user: 'U0ALICE',
      user_team: file.teamId,
      mode: 'hosted',
      editable: false,
      is_external: false,
      external_type: '',
      is_public: false,
      size: file.bytes.length,
      url_private: `${base}/${encodeURIComponent(file.name)}`,
      url_private_download: `${base}/download/${encodeURIComponent(file.name)}`,
      permalink: `https://acme.slack.com/files/U0ALICE/${file.id}/${encodeURIComponent(file.name)}`,
    };
  }

  private ts(): string {
    const n = this.nextTs++;
    return `${Math.floor(n / 1_000_000)}.${String(n % 1_000_000).padStart(6, '0')}`;
  }
}

export function defaultWorkspace(): FakeSlackWorkspace {
  return {
    teamId: 'T0001',
    teamName: 'Acme',
    botToken: 'xoxb-1111-fake-bot-token',
    botUserId: 'U0BOT',
    botId: 'B0BOT',
    appId: 'A0IQSP',
    users: [
      { id: 'U0ALICE', name: 'alice', realName: 'Alice Ames' },
      { id: 'U0BOB', name: 'bob', realName: 'Bob Burns' },
      { id: 'U0CAROL', name: 'carol', realName: 'Carol Chen' },
      { id: 'U0ADMIN', name: 'ada', realName: 'Ada Admin', isAdmin: true },
      { id: 'U0OWNER', name: 'olga', realName: 'Olga Owner', isOwner: true },
      { id: 'U0BOT', name: 'iqsp', isBot: true },
      { id: 'U0OTHERBOT', name: 'otherbot', isBot: true },
    ],
  };
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs: number, context?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context ? `; calls so far:\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- requests Slack sends to the app ----------------------------------------------------

export type SlackRequestKind = 'event' | 'command' | 'interactive';

export interface SlackRequest {
  kind: SlackRequestKind;
  body: string;
  contentType: string;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with `overrides` merged in, objects recursively; arrays and scalars replace. */
export function merge<T extends Json>(base: T, overrides: Json): T {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(overrides)) out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Json, value) : value;
  return out as T;
}

/** A fixture from test/fixtures/slack/, with overrides merged in. */
export function fixture(name: string, overrides: Json = {}): Json {
  const base = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Json;
  return merge(base, overrides);
}

/** An Events API delivery (JSON). */
export function eventRequest(name: string, overrides: Json = {}): SlackRequest {
  return { kind: 'event', body: JSON.stringify(fixture(name, overrides)), contentType: 'application/json' };
}

/** A slash command (form fields). */
export function commandRequest(name: string, overrides: Json = {}): SlackRequest {
  const fields = fixture(name, overrides) as Record<string, string>;
  return { kind: 'command', body: formEncode(fields), contentType: 'application/x-www-form-urlencoded' };
}

/** An interactive payload (`payload=<json>`): block actions, view submissions. */
export function interactiveRequest(name: string, overrides: Json = {}): SlackRequest {
  return { kind: 'interactive', body: formEncode({ payload: JSON.stringify(fixture(name, overrides)) }), contentType: 'application/x-www-form-urlencoded' };
}

/** Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`. */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  /** Seconds since the epoch (default: now). */
  timestamp?: number;
  /** Replaces the computed signature. */
  signature?: string;
  /** Sets X-Slack-Retry-Num (and a retry reason), as Slack does on redelivery. */
  retryNum?: number;
}

/** POSTs a signed request to the app's `/slack/events`, as Slack would. */
export async function sendToApp(appUrl: string, signingSecret: string, request: SlackRequest, options: SendOptions = {}): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': request.contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': options.signature ?? slackSignature(signingSecret, timestamp, request.body),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  return fetch(`${appUrl}/slack/events`, { method: 'POST', headers, body: request.body });
}

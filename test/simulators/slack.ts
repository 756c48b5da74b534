/**
 * A fake Slack on 127.0.0.1 for tests: the Web API methods IQSP calls (in Slack's wire
 * format: form-encoded requests, `{ ok, … }` answers, bot token in `Authorization: Bearer`),
 * the external upload URL, private file downloads (the bot token is required; without it
 * Slack answers 200 with an HTML login page, and so does this fake), `response_url`s, and a
 * Socket Mode WebSocket. Every call is recorded.
 *
 * `oauth.v2.access` checks what Slack checks: the client id and secret (form fields or HTTP
 * Basic), a code that was issued and not used, and the redirect_uri the authorization used.
 * `faults` injects what the network and Slack's edge do, with the platform simulators' `Fault`
 * (src/simulators/server.ts): a 429 `ratelimited` with `Retry-After`, a 5xx HTML page, a hang,
 * a reset connection, a slow answer.
 *
 * It also builds the requests Slack sends an app — Events API, slash commands, interactivity —
 * from the JSON fixtures in test/fixtures/slack/, signed like Slack signs them (v0 HMAC-SHA256).
 *
 * Messages the app posts are kept (channel and ts), with the reactions people put on them
 * (`addReaction`, which sends no event: an event the app missed), for `reactions.get`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery, stringify as formEncode } from 'node:querystring';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { takeFault, type Fault } from '../../src/simulators/server.js';

export type { Fault } from '../../src/simulators/server.js';

export interface FakeSlackUser {
  id: string;
  name: string;
  realName?: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
  /** A multi-channel guest (`is_restricted`). */
  isRestricted?: boolean;
  /** A single-channel guest (`is_ultra_restricted`). */
  isUltraRestricted?: boolean;
  /** Their own team when they come from another organization (Slack Connect); default the workspace's. */
  homeTeamId?: string;
  /** Their profile's time zone (users.info `tz`, an IANA name); absent from the answer when unset. */
  tz?: string;
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

/** A message the app posted, as `reactions.get` shows it. */
export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  user: string;
  botId: string;
  threadTs?: string | undefined;
  /** Reaction name → user ids, in the order they reacted. */
  reactions: Map<string, string[]>;
}

export interface PendingInstall {
  code: string;
  workspace: FakeSlackWorkspace;
  installerUserId: string;
  /** The redirect_uri of the authorization that issued the code; undefined when not known (not checked). */
  redirectUri: string | undefined;
}

/** One HTTP request the fake received, whatever answered it. */
export interface SlackHttpRequest {
  at: Date;
  method: string;
  /** The path without the query, e.g. `/api/chat.postMessage`. */
  path: string;
  /** The status answered; undefined while pending, or when the connection hung or was reset. */
  status?: number | undefined;
  fault?: Fault['kind'] | undefined;
}

type Json = Record<string, unknown>;

/** An answer before it is written: routes return one, so a fault can run a route and drop its answer. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

const FIXTURES = new URL('../../test/fixtures/slack/', import.meta.url);

function reply(status: number, body: Json | string, contentType = 'application/json; charset=utf-8'): Reply {
  return { status, headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/**
 * Slack's answer to an injected status: a 429 is the Web API's `ratelimited` with Retry-After
 * in whole seconds (1 unless the fault's headers say otherwise); anything else comes from the
 * edge in front of the API, an HTML page rather than `{ ok, error }`.
 */
function faultReply(status: number): Reply {
  if (status === 429)
    return {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' },
      body: JSON.stringify({ ok: false, error: 'ratelimited' }),
    };
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return reply(
    status,
    `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>\n`,
    'text/html; charset=utf-8',
  );
}

/** A fault's `match` for one Web API method, e.g. `webApiMethod('chat.postMessage')`. */
export function webApiMethod(name: string): Fault['match'] {
  return (method, path) => method === 'POST' && path === `/api/${name}`;
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

/** Client credentials sent as HTTP Basic, which `oauth.v2.access` accepts instead of form fields. */
function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly downloads: FileDownload[] = [];
  readonly uploads = new Map<string, UploadedFile>();
  readonly workspaces = new Map<string, FakeSlackWorkspace>();
  /** Socket Mode acknowledgements received, by envelope id. */
  readonly socketAcks = new Map<string, Json>();
  /**
   * Pending faults for HTTP requests (Web API, uploads, downloads, response_urls; not the
   * Socket Mode WebSocket), consumed in order as in src/simulators/server.ts. `match` sees the
   * HTTP method and the path, e.g. `/api/chat.postMessage` (see `webApiMethod`).
   */
  readonly faults: Fault[] = [];
  /** Every HTTP request, in order of arrival, with its status and the fault that answered it. */
  readonly requests: SlackHttpRequest[] = [];
  /** The app's credentials; `oauth.v2.access` refuses others (none set: every exchange is refused). */
  oauthClient: { clientId: string; clientSecret: string } | undefined;
  appToken: string | undefined;

  private readonly files = new Map<string, StoredFile>();
  /** Messages the app posted, by `${channel}/${ts}`. */
  readonly messages = new Map<string, PostedMessage>();
  /** The Home tab each person sees now (the last views.publish for them), by `${teamId}/${userId}`. */
  readonly homeViews = new Map<string, Json>();
  private readonly installs = new Map<string, PendingInstall>();
  private readonly failures = new Map<string, string[]>();
  private readonly sockets = new Set<WebSocket>();
  private readonly socketServer = new WebSocketServer({ noServer: true });
  /** Aborted on close, so slow faults stop waiting. */
  private readonly lifetime = new AbortController();
  private nextTs = 1_700_000_000_000_100;
  private nextId = 1;
  /** Each open view's current hash, by view id in the order opened: Slack refuses an update that names an older one (`hash_conflict`). */
  readonly viewHashes = new Map<string, string>();

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
          // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a Buffer: ws's default binaryType is 'nodebuffer'
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
      fake!.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must be loud, and the client must not hang on it.
        console.error('[fake Slack]', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake Slack error: ${String(error)}`);
      });
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

  /**
   * The next `oauth.v2.access` with `code` installs `workspace`. `redirectUri` is the one the
   * authorization carried, which the exchange must repeat; without it the test did not show the
   * fake the authorization, and the redirect_uri is not checked.
   */
  expectInstall(code: string, workspace: FakeSlackWorkspace, installerUserId = 'U0ADMIN', redirectUri?: string): void {
    this.installs.set(code, { code, workspace, installerUserId, redirectUri });
  }

  /**
   * A person clicks Allow on Slack's authorize page (`https://slack.com/oauth/v2/authorize?…`)
   * for `workspace`: returns the callback URL Slack redirects the browser to, with a new code
   * bound to the authorization's redirect_uri and its state. Throws where Slack shows an error
   * page instead (unknown client_id, no redirect_uri: this fake has no configured one to use).
   */
  approveInstall(authorizeUrl: string, workspace: FakeSlackWorkspace, installerUserId = 'U0ADMIN'): string {
    const params = new URL(authorizeUrl).searchParams;
    const clientId = params.get('client_id');
    if (!this.oauthClient || clientId !== this.oauthClient.clientId)
      throw new Error(`Slack refuses the authorization: invalid client_id ${JSON.stringify(clientId)}`);
    const redirectUri = params.get('redirect_uri');
    if (!redirectUri)
      throw new Error('Slack would use the redirect URL configured for the app; this fake needs redirect_uri in the authorize URL');
    const code = `${workspace.teamId}.${randomUUID()}`;
    this.expectInstall(code, workspace, installerUserId, redirectUri);
    const callback = new URL(redirectUri);
    callback.searchParams.set('code', code);
    const state = params.get('state');
    if (state !== null) callback.searchParams.set('state', state);
    return callback.toString();
  }

  /**
   * `user` reacts with `name` (e.g. `white_check_mark`) to the app's message `ts` in `channel`.
   * No event is sent: what happens while the app cannot receive events (send the
   * `reaction_added` event as well for one it hears of).
   */
  addReaction(channel: string, ts: string, user: string, name: string): void {
    const message = this.messages.get(`${channel}/${ts}`);
    if (!message) throw new Error(`the app posted no message ${ts} in ${channel}`);
    const users = message.reactions.get(name) ?? [];
    if (!users.includes(user)) users.push(user);
    message.reactions.set(name, users);
  }

  removeReaction(channel: string, ts: string, user: string, name: string): void {
    const message = this.messages.get(`${channel}/${ts}`);
    const users = (message?.reactions.get(name) ?? []).filter((u) => u !== user);
    if (users.length > 0) message?.reactions.set(name, users);
    else message?.reactions.delete(name);
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
    return waitFor(
      () => this.calls.find((c) => c.method === method && predicate(c)),
      `a ${method} call`,
      timeoutMs,
      () => this.describe(),
    );
  }

  async waitForResponse(predicate: (post: ResponseUrlPost) => boolean = () => true, timeoutMs = 10_000): Promise<ResponseUrlPost> {
    return waitFor(
      () => this.responses.find(predicate),
      'a response_url post',
      timeoutMs,
      () => this.describe(),
    );
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
    this.lifetime.abort();
    for (const socket of this.sockets) socket.terminate();
    this.socketServer.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP -----------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const record: SlackHttpRequest = { at: new Date(), method, path: url.pathname };
    this.requests.push(record);
    // The whole request is read before any answer, as Slack's edge does.
    const raw = await readBody(req);

    const fault = takeFault(this.faults, method, url.pathname);
    if (fault) record.fault = fault.kind;
    switch (fault?.kind) {
      case 'status': {
        const base = faultReply(fault.status);
        const body = fault.body === undefined ? base.body : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
        return this.write(res, record, { status: fault.status, headers: { ...base.headers, ...lowerCaseKeys(fault.headers ?? {}) }, body });
      }
      case 'hang':
        if (fault.process) await this.route(url, method, raw, req);
        return;
      case 'reset':
        if (fault.process) await this.route(url, method, raw, req);
        req.socket.destroy();
        return;
      case 'slow':
        await sleep(fault.ms, undefined, { signal: this.lifetime.signal }).catch(() => undefined);
        break;
      default:
        break;
    }
    this.write(res, record, await this.route(url, method, raw, req));
  }

  private write(res: ServerResponse, record: SlackHttpRequest, answer: Reply): void {
    if (res.destroyed) return;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
    res.end(answer.body);
    record.status = answer.status;
  }

  private async route(url: URL, method: string, raw: Buffer, req: IncomingMessage): Promise<Reply> {
    if (method === 'POST' && url.pathname.startsWith('/api/')) return this.api(url.pathname.slice('/api/'.length), raw, req);
    if (method === 'POST' && url.pathname.startsWith('/upload/')) return this.upload(url.pathname.slice('/upload/'.length), raw, req);
    if (method === 'POST' && url.pathname.startsWith('/respond/')) {
      this.responses.push({ id: url.pathname.slice('/respond/'.length), body: JSON.parse(raw.toString('utf8')) as Json });
      return reply(200, 'ok', 'text/plain');
    }
    if (method === 'GET' && url.pathname.startsWith('/files-pri/')) return this.download(url.pathname, req);
    return reply(404, { ok: false, error: 'unknown_route' });
  }

  private api(method: string, raw: Buffer, req: IncomingMessage): Reply {
    const text = raw.toString('utf8');
    const args = (req.headers['content-type'] ?? '').startsWith('application/json')
      ? Object.fromEntries(
          Object.entries(JSON.parse(text || '{}') as Json).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
        )
      : (parseQuery(text) as Record<string, string>);
    const token = bearer(req) ?? args.token;
    const workspace = [...this.workspaces.values()].find((w) => w.botToken === token);
    this.calls.push({ method, args, token, teamId: workspace?.teamId });

    const failure = this.failures.get(method)?.shift();
    if (failure) return reply(200, { ok: false, error: failure });

    if (method === 'oauth.v2.access') return reply(200, this.oauthAccess(args, basicCredentials(req)));
    if (method === 'apps.connections.open') {
      if (!this.appToken || token !== this.appToken) return reply(200, { ok: false, error: 'invalid_auth' });
      return reply(200, { ok: true, url: `${this.url.replace('http', 'ws')}/socket?ticket=${randomUUID()}` });
    }
    if (!workspace) return reply(200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
    return reply(200, this.answer(method, args, workspace));
  }

  private answer(method: string, args: Record<string, string>, ws: FakeSlackWorkspace): Json {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: `https://${ws.teamName.toLowerCase()}.slack.com/`,
          team: ws.teamName,
          user: 'iqsp',
          team_id: ws.teamId,
          user_id: ws.botUserId,
          bot_id: ws.botId,
          is_enterprise_install: false,
        };
      case 'users.info': {
        const user = ws.users.find((u) => u.id === args.user);
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: user.id,
            team_id: user.homeTeamId ?? ws.teamId,
            name: user.name,
            deleted: false,
            real_name: user.realName ?? user.name,
            is_admin: user.isAdmin ?? false,
            is_owner: user.isOwner ?? false,
            is_primary_owner: false,
            is_restricted: user.isRestricted ?? false,
            is_ultra_restricted: user.isUltraRestricted ?? false,
            is_bot: user.isBot ?? false,
            is_app_user: false,
            ...(user.tz !== undefined ? { tz: user.tz } : {}),
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
        this.messages.set(`${args.channel}/${ts}`, {
          channel: args.channel,
          ts,
          text: args.text ?? '',
          user: ws.botUserId,
          botId: ws.botId,
          threadTs: args.thread_ts,
          reactions: new Map(),
        });
        return {
          ok: true,
          channel: args.channel,
          ts,
          message: {
            type: 'message',
            subtype: 'bot_message',
            text: args.text,
            user: ws.botUserId,
            bot_id: ws.botId,
            ts,
            ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}),
          },
        };
      }
      case 'chat.postEphemeral':
        if (!args.channel || !args.user) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: this.ts() };
      case 'chat.update': {
        if (!args.channel || !args.ts) return { ok: false, error: 'message_not_found' };
        const message = this.messages.get(`${args.channel}/${args.ts}`);
        if (message && args.text !== undefined) message.text = args.text;
        return {
          ok: true,
          channel: args.channel,
          ts: args.ts,
          text: args.text,
          message: { text: args.text, user: ws.botUserId, bot_id: ws.botId },
        };
      }
      case 'reactions.get':
        return this.reactionsGet(args, ws);
      case 'views.open':
      case 'views.update': {
        if (method === 'views.open' && !args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (
          method === 'views.update' &&
          args.hash &&
          args.view_id &&
          this.viewHashes.has(args.view_id) &&
          this.viewHashes.get(args.view_id) !== args.hash
        )
          return { ok: false, error: 'hash_conflict' };
        const view = JSON.parse(args.view ?? '{}') as Json;
        const id = args.view_id ?? `V${String(this.nextId++).padStart(8, '0')}`;
        const hash = `${Date.now()}.${String(this.nextId++).padStart(8, '0')}`;
        this.viewHashes.set(id, hash);
        return { ok: true, view: { id, team_id: ws.teamId, state: { values: {} }, hash, ...view } };
      }
      case 'views.publish': {
        if (!args.user_id) return { ok: false, error: 'invalid_arguments' };
        const view = JSON.parse(args.view ?? '{}') as Json;
        if (view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
        if (!Array.isArray(view.blocks) || view.blocks.length > 100) return { ok: false, error: 'invalid_blocks' };
        const id = `V${String(this.nextId++).padStart(8, '0')}`;
        this.homeViews.set(`${ws.teamId}/${args.user_id}`, view);
        return { ok: true, view: { id, team_id: ws.teamId, hash: `${Date.now()}.${id}`, ...view } };
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

  /**
   * reactions.get for a message (`channel` + `timestamp`; files are not kept here): the message
   * with `reactions: [{ name, users, count }]`. Without `full`, Slack may list only some users
   * of a reaction (`count` stays the total); this fake lists the first 3.
   */
  private reactionsGet(args: Record<string, string>, ws: FakeSlackWorkspace): Json {
    if (!args.channel && !args.timestamp && !args.file && !args.file_comment) return { ok: false, error: 'no_item_specified' };
    if (!args.channel || !args.timestamp) return { ok: false, error: 'bad_timestamp' };
    const message = this.messages.get(`${args.channel}/${args.timestamp}`);
    if (!message) return { ok: false, error: 'message_not_found' };
    const full = args.full === 'true' || args.full === '1';
    const reactions = [...message.reactions].map(([name, users]) => ({
      name,
      users: full ? [...users] : users.slice(0, 3),
      count: users.length,
    }));
    return {
      ok: true,
      type: 'message',
      channel: message.channel,
      message: {
        type: 'message',
        text: message.text,
        user: message.user,
        bot_id: message.botId,
        ts: message.ts,
        team: ws.teamId,
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
        ...(reactions.length > 0 ? { reactions } : {}),
        permalink: `https://${ws.teamName.toLowerCase()}.slack.com/archives/${message.channel}/p${message.ts.replace('.', '')}`,
      },
    };
  }

  /**
   * Slack's checks: client id, client secret, code, then the redirect_uri, which must repeat the
   * authorization's when that had one (an omitted one does not match either, as in OAuth 2.0).
   */
  private oauthAccess(args: Record<string, string>, basic: { id: string; secret: string } | undefined): Json {
    const clientId = args.client_id ?? basic?.id;
    const clientSecret = args.client_secret ?? basic?.secret;
    if (!this.oauthClient || clientId !== this.oauthClient.clientId) return { ok: false, error: 'invalid_client_id' };
    if (clientSecret !== this.oauthClient.clientSecret) return { ok: false, error: 'bad_client_secret' };
    const install = this.installs.get(args.code ?? '');
    if (!install) return { ok: false, error: 'invalid_code' };
    if (install.redirectUri !== undefined && args.redirect_uri !== install.redirectUri) return { ok: false, error: 'bad_redirect_uri' };
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

  private async upload(fileId: string, raw: Buffer, req: IncomingMessage): Promise<Reply> {
    const upload = this.uploads.get(fileId);
    if (!upload) return reply(404, 'no such upload', 'text/plain');
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://upload', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
      const part = [...form.values()].find((v) => typeof v !== 'string');
      upload.bytes = part !== undefined && typeof part !== 'string' ? Buffer.from(await part.arrayBuffer()) : Buffer.alloc(0);
    } else upload.bytes = raw;
    return reply(200, `OK - ${upload.bytes.length}`, 'text/plain');
  }

  private download(pathname: string, req: IncomingMessage): Reply {
    const match = /^\/files-pri\/(T[A-Z0-9]+)-(F[A-Z0-9]+)\//.exec(pathname);
    const file = match ? this.files.get(match[2]!) : undefined;
    const ws = file ? this.workspaces.get(file.teamId) : undefined;
    const authorized = Boolean(ws && bearer(req) === ws.botToken);
    if (file) this.downloads.push({ fileId: file.id, authorized });
    if (!file) return reply(404, 'not found', 'text/plain');
    // Slack's answer to a download without a valid token: its login page, with status 200.
    if (!authorized)
      return reply(
        200,
        '<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>',
        'text/html; charset=utf-8',
      );
    return { status: 200, headers: { 'content-type': file.mimetype }, body: file.bytes };
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

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
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
  for (const [key, value] of Object.entries(overrides)) out[key] = isObject(value) && isObject(out[key]) ? merge(out[key], value) : value;
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
  return {
    kind: 'interactive',
    body: formEncode({ payload: JSON.stringify(fixture(name, overrides)) }),
    contentType: 'application/x-www-form-urlencoded',
  };
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
export async function sendToApp(
  appUrl: string,
  signingSecret: string,
  request: SlackRequest,
  options: SendOptions = {},
): Promise<Response> {
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

/**
 * A local fake of Discord for integration tests: the REST API v10 (the routes discord.js and
 * IQSP use), attachment downloads on the same host (as cdn.discordapp.com serves them), and
 * the gateway over WebSocket at `/gateway` — all on one 127.0.0.1 port. Every REST call is
 * recorded. The bot's own messages, reactions and threads are echoed on the gateway as
 * Discord does, so a client that reacts to its own events would show it.
 *
 * `faults` injects what Discord and its edge do, with the platform simulators' `Fault`
 * (src/simulators/server.ts): a 429 in Discord's shape (`retry_after` in the body, Retry-After
 * and the X-RateLimit-* headers), a 5xx, a hang, a reset connection, a slow answer.
 *
 *   const discord = await startDiscordSimulator({ token: 'bot-token' });
 *   new Client({ rest: { api: discord.apiUrl }, ... }).login('bot-token');
 *   discord.commandInteraction(discord.world.people.bob, 'post', { targets: 'x', caption: 'Hi' });
 *   discord.faults.push({ match: (method, path) => method === 'POST' && /^\/channels\/\d+\/messages$/.test(path), kind: 'status', status: 429, retryAfter: 0.5 });
 */
import { createHash } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  APIApplicationCommand,
  APIAttachment,
  APIMessage,
  APIThreadChannel,
  APIUser,
  RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import {
  ApplicationCommandOptionType,
  ChannelType,
  ComponentType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  PermissionFlagsBits,
} from 'discord.js';
import { takeFault, type Fault } from '../../../src/simulators/server.js';
import { FakeGateway } from './gateway.js';
import { snowflake, World, type WorldOptions } from './world.js';

export { snowflake, World } from './world.js';

export interface RecordedCall {
  method: string;
  /** The route after `/api/v10`, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  /** JSON body; for multipart, `payload_json` parsed plus `files`. */
  body: unknown;
  files: Array<{ field: string; filename: string; contentType: string; text: string }>;
  authorized: boolean;
}

/** One interaction the test sent, and everything the bot answered to it. */
export interface InteractionRecord {
  id: string;
  token: string;
  channelId: string;
  userId: string;
  /** The message a component was on (buttons); ephemeral ones exist only here. */
  source?: APIMessage | undefined;
  callbacks: Array<{ type: number; data?: Record<string, unknown> }>;
  original?: APIMessage | undefined;
  originalDeleted: boolean;
  followUps: APIMessage[];
}

export interface DiscordSimulatorOptions extends WorldOptions {
  token?: string;
}

/**
 * A fault (see src/simulators/server.ts). `match` sees the HTTP method and, for the REST API,
 * the route after `/api/v10` as `calls` record it (`/channels/123/messages`); for attachments
 * their path. A 429 takes `retryAfter` (seconds, may be fractional; default 1) and `scope`
 * (`user` by default; `shared` for a per-resource limit; `global`).
 */
export type DiscordFault = Fault & { retryAfter?: number; scope?: 'user' | 'shared' | 'global' };

/** One HTTP request the fake received, whatever answered it. */
export interface DiscordHttpRequest {
  at: Date;
  method: string;
  path: string;
  /** The status answered; undefined while pending, or when the connection hung or was reset. */
  status?: number | undefined;
  fault?: Fault['kind'] | undefined;
}

/** An answer before it is written: a fault can run the route and drop its answer. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

const jsonReply = (status: number, value: unknown): Reply => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const unknownChannel = () => new HttpError(404, 10003, 'Unknown Channel');
const unknownMessage = () => new HttpError(404, 10008, 'Unknown Message');

type Json = Record<string, unknown>;

export class DiscordSimulator {
  readonly world: World;
  readonly token: string;
  readonly calls: RecordedCall[] = [];
  readonly interactions = new Map<string, InteractionRecord>();
  readonly commands = new Map<string, APIApplicationCommand[]>();
  readonly gateway: FakeGateway;
  /** Pending faults for HTTP requests (REST and attachments; not the gateway), consumed in order. */
  readonly faults: DiscordFault[] = [];
  /** Every HTTP request, in order of arrival, with its status and the fault that answered it. */
  readonly requests: DiscordHttpRequest[] = [];
  private readonly server: Server;
  /** Aborted on close, so slow faults stop waiting. */
  private readonly lifetime = new AbortController();
  private port = 0;

  constructor(options: DiscordSimulatorOptions = {}) {
    this.world = new World(options);
    this.token = options.token ?? 'fake-discord-bot-token';
    this.gateway = new FakeGateway({
      token: this.token,
      ready: (sessionId) => ({
        v: 10,
        user: { ...this.world.bot, verified: true, mfa_enabled: false, flags: 0 },
        guilds: [{ id: this.world.guildId, unavailable: true }],
        session_id: sessionId,
        resume_gateway_url: this.gatewayUrl,
        application: { id: this.world.applicationId, flags: 0 },
        private_channels: [],
        relationships: [],
        user_settings: {},
        presences: [],
        guild_join_requests: [],
        geo_ordered_rtc_regions: [],
        shard: [0, 1],
      }),
      guilds: () => [this.world.guildPayload()],
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must be loud, and the client must not hang on it.
        console.error('[fake Discord]', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake Discord error: ${String(error)}`);
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      if ((req.url ?? '').startsWith('/gateway')) this.gateway.upgrade(req, socket, head);
      else socket.destroy();
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** DISCORD_API_URL: the REST base without the version. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  async close(): Promise<void> {
    this.lifetime.abort();
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- what tests send --------------------------------------------------------------------

  /** An attachment served by this fake (the URL is on its host, like cdn.discordapp.com). */
  attachment(filename: string, contentType: string, bytes: Buffer, size?: { width: number; height: number }): APIAttachment {
    return this.world.addFile(this.baseUrl, this.world.channelId, filename, contentType, bytes, size);
  }

  /** A member writes in the server's channel (MESSAGE_CREATE with `member`, as Discord sends it). */
  userMessage(author: APIUser, content: string, attachments: APIAttachment[] = [], channelId = this.world.channelId): APIMessage {
    const message = this.world.message(channelId, author, { content, attachments });
    this.world.messages.set(message.id, message);
    const member = this.world.member(author.id);
    this.gateway.dispatch('MESSAGE_CREATE', { ...message, guild_id: this.world.guildId, member: { ...member, user: undefined } });
    return message;
  }

  /** A user writes to the bot in a DM (no guild, a DM channel discord.js has not cached). */
  directMessage(author: APIUser, content: string): APIMessage {
    const channel = this.world.dmChannel(author.id);
    const message = this.world.message(channel.id, author, { content });
    this.world.messages.set(message.id, message);
    this.gateway.dispatch('MESSAGE_CREATE', message);
    return message;
  }

  /**
   * `user` reacts to a message. With `delivered: false` no event is sent: a reaction given while
   * the bot was off the gateway, which only the REST API shows.
   */
  reactionAdd(
    user: APIUser,
    messageId: string,
    emoji: string,
    channelId = this.world.channelId,
    options: { delivered?: boolean } = {},
  ): void {
    this.react(user.id, messageId, emoji, true);
    if (options.delivered === false) return;
    this.gateway.dispatch('MESSAGE_REACTION_ADD', {
      user_id: user.id,
      channel_id: channelId,
      message_id: messageId,
      guild_id: this.world.guildId,
      member: this.world.member(user.id),
      emoji: { id: null, name: emoji },
      message_author_id: this.world.messages.get(messageId)?.author.id,
      burst: false,
      burst_colors: [],
      type: 0,
    });
  }

  reactionRemove(user: APIUser, messageId: string, emoji: string, channelId = this.world.channelId): void {
    this.react(user.id, messageId, emoji, false);
    this.gateway.dispatch('MESSAGE_REACTION_REMOVE', {
      user_id: user.id,
      channel_id: channelId,
      message_id: messageId,
      guild_id: this.world.guildId,
      emoji: { id: null, name: emoji },
      burst: false,
      type: 0,
    });
  }

  private react(userId: string, messageId: string, emoji: string, add: boolean): void {
    const byEmoji = this.world.reactions.get(messageId) ?? new Map<string, Set<string>>();
    this.world.reactions.set(messageId, byEmoji);
    const users = byEmoji.get(emoji) ?? new Set<string>();
    byEmoji.set(emoji, users);
    if (add) users.add(userId);
    else users.delete(userId);
  }

  private interactionBase(user: APIUser, channelId: string): Json & { id: string; token: string } {
    const channel = this.world.channels.get(channelId);
    const member = this.world.member(user.id);
    return {
      id: snowflake(),
      application_id: this.world.applicationId,
      token: `interaction-token-${snowflake()}`,
      version: 1,
      guild_id: this.world.guildId,
      guild: { id: this.world.guildId, locale: 'en-US', features: [] },
      guild_locale: 'en-US',
      channel_id: channelId,
      channel: {
        id: channelId,
        type: channel?.type ?? ChannelType.GuildText,
        guild_id: this.world.guildId,
        name: channel && 'name' in channel ? channel.name : 'channel',
      },
      member: { ...member, permissions: String(this.world.permissions(user.id)) },
      app_permissions: String(this.world.permissions(this.world.bot.id)),
      locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.world.guildId },
      context: 0,
      attachment_size_limit: 10 * 1024 * 1024,
    };
  }

  private track(base: { id: string; token: string }, userId: string, channelId: string, source?: APIMessage): InteractionRecord {
    const record: InteractionRecord = {
      id: base.id,
      token: base.token,
      channelId,
      userId,
      source,
      callbacks: [],
      originalDeleted: false,
      followUps: [],
    };
    this.interactions.set(base.token, record);
    return record;
  }

  /**
   * `/iqsp <subcommand>` with options (strings, integers, booleans) and attachment options
   * (files uploaded with the command, listed in `resolved.attachments`).
   */
  commandInteraction(
    user: APIUser,
    subcommand: string,
    options: Record<string, string | number | boolean> = {},
    attachments: Record<string, APIAttachment> = {},
    channelId = this.world.channelId,
  ): InteractionRecord {
    const base = this.interactionBase(user, channelId);
    const typed = Object.entries(options).map(([name, value]) => ({
      name,
      type:
        typeof value === 'string'
          ? ApplicationCommandOptionType.String
          : typeof value === 'number'
            ? ApplicationCommandOptionType.Integer
            : ApplicationCommandOptionType.Boolean,
      value,
    }));
    const files = Object.entries(attachments).map(([name, a]) => ({ name, type: ApplicationCommandOptionType.Attachment, value: a.id }));
    const registered = [...this.commands.values()].flat().find((c) => c.name === 'iqsp');
    const interaction = {
      ...base,
      type: InteractionType.ApplicationCommand,
      data: {
        id: registered?.id ?? snowflake(),
        name: 'iqsp',
        type: 1,
        options: [{ name: subcommand, type: ApplicationCommandOptionType.Subcommand, options: [...typed, ...files] }],
        ...(files.length > 0
          ? { resolved: { attachments: Object.fromEntries(Object.values(attachments).map((a) => [a.id, { ...a, ephemeral: true }])) } }
          : {}),
      },
    };
    const record = this.track(base, user.id, channelId);
    this.gateway.dispatch('INTERACTION_CREATE', interaction);
    return record;
  }

  /** A click on a button of a message the bot sent. */
  buttonClick(user: APIUser, messageOrId: string | APIMessage, customId: string): InteractionRecord {
    const message = typeof messageOrId === 'string' ? this.world.messages.get(messageOrId) : messageOrId;
    if (!message) throw new Error(`no message ${typeof messageOrId === 'string' ? messageOrId : messageOrId.id}`);
    const base = this.interactionBase(user, message.channel_id);
    const interaction = {
      ...base,
      type: InteractionType.MessageComponent,
      message,
      data: { custom_id: customId, component_type: ComponentType.Button },
    };
    const record = this.track(base, user.id, message.channel_id, message);
    this.gateway.dispatch('INTERACTION_CREATE', interaction);
    return record;
  }

  /**
   * `user` submits the modal the bot answered `opened` with (interaction response type 9): each
   * text input's value as the bot filled it in, or as `values` (by input custom id) changes it.
   * The payload mirrors the modal's layout (labels, or the older action rows), as Discord's does.
   */
  modalSubmit(user: APIUser, opened: InteractionRecord, values: Record<string, string> = {}): InteractionRecord {
    const modal = opened.callbacks.find((c) => c.type === InteractionResponseType.Modal)?.data;
    if (!modal) throw new Error(`interaction ${opened.id} was not answered with a modal`);
    const input = (c: Json) => ({
      type: ComponentType.TextInput,
      id: c.id,
      custom_id: c.custom_id,
      value: values[String(c.custom_id)] ?? (typeof c.value === 'string' ? c.value : ''),
    });
    const components = (modal.components as Json[]).map((row) =>
      row.type === ComponentType.Label
        ? { type: ComponentType.Label, id: row.id, component: input(row.component as Json) }
        : { type: ComponentType.ActionRow, id: row.id, components: (row.components as Json[]).map(input) },
    );
    const base = this.interactionBase(user, opened.channelId);
    const interaction = {
      ...base,
      type: InteractionType.ModalSubmit,
      ...(opened.source ? { message: opened.source } : {}),
      data: { custom_id: modal.custom_id, components },
    };
    const record = this.track(base, user.id, opened.channelId, opened.source);
    this.gateway.dispatch('INTERACTION_CREATE', interaction);
    return record;
  }

  /** The interactions a user started, oldest first. */
  interactionsOf(userId: string): InteractionRecord[] {
    return [...this.interactions.values()].filter((i) => i.userId === userId);
  }

  // ---- what tests read --------------------------------------------------------------------

  callsTo(method: string, pattern: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path));
  }

  /** Messages the bot posted in a channel or thread, oldest first. */
  botMessages(channelId: string): APIMessage[] {
    return this.world.messagesIn(channelId).filter((m) => m.author.id === this.world.bot.id);
  }

  threads(): APIThreadChannel[] {
    return [...this.world.channels.values()].filter((c): c is APIThreadChannel => c.type === ChannelType.PublicThread);
  }

  dmMessages(userId: string): APIMessage[] {
    const channel = [...this.world.channels.values()].find((c) => c.type === ChannelType.DM && c.recipients?.[0]?.id === userId);
    return channel ? this.world.messagesIn(channel.id) : [];
  }

  /** Polls until `predicate` returns a value (the bot works asynchronously). */
  async waitFor<T>(predicate: () => T | undefined | null | false, what = 'the condition', timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; REST calls so far:\n${this.calls.map((c) => `${c.method} ${c.path}`).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The interaction's answer once it is final: the edited deferral, or a deletion plus channel message. */
  async answered(record: InteractionRecord): Promise<InteractionRecord> {
    return this.waitFor(
      () =>
        record.original?.edited_timestamp ||
        record.originalDeleted ||
        (record.callbacks.length > 0 && record.callbacks.every((c) => c.type === InteractionResponseType.ChannelMessageWithSource))
          ? record
          : undefined,
      `an answer to interaction ${record.id}`,
    );
  }

  // ---- the REST API -----------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const api = url.pathname.startsWith('/api/v10/');
    const path = api ? decodeURIComponent(url.pathname.slice('/api/v10'.length)) : url.pathname;
    const record: DiscordHttpRequest = { at: new Date(), method, path };
    this.requests.push(record);
    // The whole request is read before any answer.
    const raw = await readRaw(req);

    const fault = takeFault(this.faults, method, path);
    if (fault) record.fault = fault.kind;
    switch (fault?.kind) {
      case 'status': {
        const base = faultReply(fault, method, path);
        const body = fault.body === undefined ? base.body : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
        return this.write(res, record, { status: fault.status, headers: { ...base.headers, ...lowerCaseKeys(fault.headers ?? {}) }, body });
      }
      case 'hang':
        if (fault.process) await this.answer(req, url, api, path, raw);
        return;
      case 'reset':
        if (fault.process) await this.answer(req, url, api, path, raw);
        req.socket.destroy();
        return;
      case 'slow':
        await sleep(fault.ms, undefined, { signal: this.lifetime.signal }).catch(() => undefined);
        break;
      default:
        break;
    }
    this.write(res, record, await this.answer(req, url, api, path, raw));
  }

  private write(res: ServerResponse, record: DiscordHttpRequest, reply: Reply): void {
    if (res.destroyed) return;
    res.writeHead(reply.status, {
      ...reply.headers,
      ...(reply.status === 204 ? {} : { 'content-length': String(Buffer.byteLength(reply.body)) }),
    });
    res.end(reply.body);
    record.status = reply.status;
  }

  private async answer(req: IncomingMessage, url: URL, api: boolean, path: string, raw: Buffer): Promise<Reply> {
    try {
      if (req.method === 'GET' && path.startsWith('/attachments/')) return this.serveFile(path);
      if (!api) throw new HttpError(404, 0, '404: Not Found');
      const { body, files } = await parseBody(raw, req.headers['content-type'] ?? '');
      const authorized = req.headers.authorization === `Bot ${this.token}`;
      const call: RecordedCall = {
        method: req.method ?? 'GET',
        path,
        query: Object.fromEntries(url.searchParams),
        body,
        files,
        authorized,
      };
      this.calls.push(call);
      const open = /^\/(interactions|webhooks)\//.test(path);
      if (!open && !authorized) throw new HttpError(401, 0, '401: Unauthorized');
      const result = this.route(call);
      if (result === undefined) return { status: 204, headers: {}, body: '' };
      const status = call.method === 'POST' && /\/threads$/.test(path) ? 201 : 200;
      return jsonReply(status, result);
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 0, error instanceof Error ? error.message : String(error));
      return jsonReply(e.status, { message: e.message, code: e.code });
    }
  }

  private serveFile(pathname: string): Reply {
    const file = this.world.files.get(pathname);
    if (!file) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
    return { status: 200, headers: { 'content-type': file.contentType }, body: file.bytes };
  }

  private route(call: RecordedCall): unknown {
    const { method, path } = call;
    const body = (call.body ?? {}) as Json;
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot')
      return {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      };
    if (method === 'GET' && path === '/gateway') return { url: this.gatewayUrl };
    if (method === 'GET' && path === '/users/@me') return this.world.bot;
    if (method === 'POST' && path === '/users/@me/channels') return this.world.dmChannel(String(body.recipient_id));
    if (method === 'GET' && (m = /^\/users\/(\d+)$/.exec(path))) return this.world.users.get(m[1]!) ?? fail(404, 10013, 'Unknown User');
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)) && method === 'PUT')
      return this.putCommands(m[1]!, m[2], call.body);
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)) && method === 'GET')
      return this.commands.get(m[2] ?? 'global') ?? [];
    if (method === 'GET' && (m = /^\/guilds\/(\d+)$/.exec(path))) return this.guild(m[1]!) && this.world.guildPayload();
    if (method === 'GET' && (m = /^\/guilds\/(\d+)\/roles$/.exec(path))) return this.guild(m[1]!) && this.world.roles;
    if (method === 'GET' && (m = /^\/guilds\/(\d+)\/channels$/.exec(path)))
      return this.guild(m[1]!) && [...this.world.channels.values()].filter((c) => this.world.guildChannel(c.id));
    if (method === 'GET' && (m = /^\/guilds\/(\d+)\/members\/(\d+)$/.exec(path))) {
      this.guild(m[1]!);
      if (!this.world.members.has(m[2]!)) fail(404, 10007, 'Unknown Member');
      return this.world.member(m[2]!);
    }
    if (method === 'GET' && (m = /^\/channels\/(\d+)$/.exec(path)))
      return this.world.channels.get(m[1]!) ?? fail(404, 10003, 'Unknown Channel');
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/messages$/.exec(path))) return this.createMessage(m[1]!, body, call.files);
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const message = this.messageIn(m[1]!, m[2]!);
      if (method === 'GET') return this.withReactions(message);
      if (method === 'PATCH') return this.editMessage(message, body);
    }
    if (method === 'PUT' && (m = /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)\/@me$/.exec(path))) {
      const message = this.messageIn(m[1]!, m[2]!);
      const emoji = m[3]!;
      this.react(this.world.bot.id, message.id, emoji, true);
      this.gateway.dispatch('MESSAGE_REACTION_ADD', {
        user_id: this.world.bot.id,
        channel_id: message.channel_id,
        message_id: message.id,
        guild_id: this.world.guildId,
        member: this.world.member(this.world.bot.id),
        emoji: { id: null, name: emoji },
        message_author_id: message.author.id,
        burst: false,
        burst_colors: [],
        type: 0,
      });
      return undefined;
    }
    if (method === 'DELETE' && (m = /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)$/.exec(path)))
      return this.deleteEmojiReactions(this.messageIn(m[1]!, m[2]!), m[3]!);
    if (method === 'GET' && (m = /^\/channels\/(\d+)\/messages\/(\d+)\/reactions\/([^/]+)$/.exec(path)))
      return this.reactionUsers(this.messageIn(m[1]!, m[2]!), m[3]!, call.query);
    if (method === 'POST' && (m = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(path)))
      return this.startThread(this.messageIn(m[1]!, m[2]!), body);
    if (method === 'POST' && (m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)))
      return this.interactionCallback(m[2]!, body, call.query);
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(@original|\d+))?$/.exec(path)))
      return this.webhook(method, m[2]!, m[3], body, call.files);
    return fail(404, 0, '404: Not Found');
  }

  /**
   * A message as GET /channels/{id}/messages/{id} shows it: with `reactions`, one per emoji,
   * counting who reacted (`me` when the bot did), without naming them.
   */
  private withReactions(message: APIMessage): APIMessage {
    const reactions = [...(this.world.reactions.get(message.id) ?? new Map<string, Set<string>>())]
      .filter(([, users]) => users.size > 0)
      .map(([emoji, users]) => ({
        emoji: { id: null, name: emoji },
        count: users.size,
        count_details: { burst: 0, normal: users.size },
        me: users.has(this.world.bot.id),
        me_burst: false,
        burst_colors: [],
      }));
    return reactions.length > 0 ? { ...message, reactions } : message;
  }

  /**
   * GET …/reactions/{emoji}: the users who reacted with a (unicode) emoji, ordered by id, at
   * most `limit` (1–100, default 25) after the user id `after`. `type` 1 (super reactions) has
   * none here.
   */
  private reactionUsers(message: APIMessage, emoji: string, query: Record<string, string>): APIUser[] {
    const limit = query.limit === undefined ? 25 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) fail(400, 50035, 'Invalid Form Body');
    if (query.type === '1') return [];
    const ids = [...(this.world.reactions.get(message.id)?.get(emoji) ?? [])].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const after = query.after === undefined ? undefined : BigInt(query.after);
    return ids
      .filter((id) => after === undefined || BigInt(id) > after)
      .slice(0, limit)
      .map((id) => this.world.users.get(id) ?? fail(404, 10013, 'Unknown User'));
  }

  /**
   * DELETE …/reactions/{emoji} (Delete All Reactions for Emoji): everyone's, the bot's included.
   * It needs Manage Messages (403, code 50013 without it) and fires MESSAGE_REACTION_REMOVE_EMOJI.
   */
  private deleteEmojiReactions(message: APIMessage, emoji: string): undefined {
    if ((this.world.permissions(this.world.bot.id) & PermissionFlagsBits.ManageMessages) === 0n) fail(403, 50013, 'Missing Permissions');
    this.world.reactions.get(message.id)?.delete(emoji);
    this.gateway.dispatch('MESSAGE_REACTION_REMOVE_EMOJI', {
      channel_id: message.channel_id,
      guild_id: this.world.guildId,
      message_id: message.id,
      emoji: { id: null, name: emoji },
    });
    return undefined;
  }

  private guild(id: string): true {
    if (id !== this.world.guildId) fail(404, 10004, 'Unknown Guild');
    return true;
  }

  private messageIn(channelId: string, messageId: string): APIMessage {
    if (!this.world.channels.has(channelId)) throw unknownChannel();
    const message = this.world.messages.get(messageId);
    if (!message || message.channel_id !== channelId) throw unknownMessage();
    return message;
  }

  private putCommands(applicationId: string, guildId: string | undefined, body: unknown): APIApplicationCommand[] {
    if (applicationId !== this.world.applicationId) fail(403, 50001, 'Missing Access');
    if (guildId) this.guild(guildId);
    if (!Array.isArray(body)) fail(400, 50035, 'Invalid Form Body');
    const commands = (body as RESTPostAPIApplicationCommandsJSONBody[]).map(
      (c) =>
        ({
          ...c,
          id: snowflake(),
          application_id: applicationId,
          version: snowflake(),
          default_member_permissions: null,
          type: 1,
          ...(guildId ? { guild_id: guildId } : {}),
        }) as unknown as APIApplicationCommand,
    );
    this.commands.set(guildId ?? 'global', commands);
    return commands;
  }

  /** A message the bot sends (JSON or multipart with files), echoed as MESSAGE_CREATE. */
  private createMessage(channelId: string, body: Json, files: RecordedCall['files']): APIMessage {
    const channel = this.world.channels.get(channelId);
    if (!channel) throw unknownChannel();
    if (channel.type === ChannelType.DM && this.world.dmsClosed.has(channel.recipients?.[0]?.id ?? ''))
      fail(403, 50007, 'Cannot send messages to this user');
    if (!body.content && !(Array.isArray(body.embeds) && body.embeds.length > 0) && files.length === 0)
      fail(400, 50006, 'Cannot send an empty message');
    const reference = body.message_reference as { message_id?: string } | undefined;
    const message = this.world.message(channelId, this.world.bot, {
      content: typeof body.content === 'string' ? body.content : '',
      embeds: (body.embeds as APIMessage['embeds'] | undefined) ?? [],
      components: (body.components as APIMessage['components'] | undefined) ?? [],
      attachments: files.map((f) => this.world.addFile(this.baseUrl, channelId, f.filename, f.contentType, Buffer.from(f.text, 'utf8'))),
      ...(reference?.message_id
        ? { type: 19, message_reference: { message_id: reference.message_id, channel_id: channelId, guild_id: this.world.guildId } }
        : {}),
    });
    this.world.messages.set(message.id, message);
    if (channel.type === ChannelType.PublicThread) {
      channel.message_count = (channel.message_count ?? 0) + 1;
      channel.total_message_sent = (channel.total_message_sent ?? 0) + 1;
    }
    const guild = this.world.guildChannel(channelId);
    this.gateway.dispatch(
      'MESSAGE_CREATE',
      guild ? { ...message, guild_id: this.world.guildId, member: { ...this.world.member(this.world.bot.id), user: undefined } } : message,
    );
    return message;
  }

  private editMessage(message: APIMessage, body: Json): APIMessage {
    if ('content' in body) message.content = typeof body.content === 'string' ? body.content : '';
    if ('embeds' in body) message.embeds = (body.embeds as APIMessage['embeds'] | null) ?? [];
    if ('components' in body) message.components = (body.components as APIMessage['components'] | null) ?? [];
    message.edited_timestamp = new Date().toISOString();
    if (this.world.guildChannel(message.channel_id) || this.world.channels.get(message.channel_id)?.type === ChannelType.PublicThread)
      this.gateway.dispatch('MESSAGE_UPDATE', { ...message, guild_id: this.world.guildId });
    return message;
  }

  private startThread(message: APIMessage, body: Json): APIThreadChannel {
    const parent = this.world.channels.get(message.channel_id);
    if (!parent || (parent.type !== ChannelType.GuildText && parent.type !== ChannelType.GuildAnnouncement))
      fail(400, 50024, 'Cannot execute action on this channel type');
    if (message.thread) fail(400, 160004, 'A thread has already been created for this message');
    const now = new Date().toISOString();
    const thread: APIThreadChannel = {
      // A thread started from a message has the message's id.
      id: message.id,
      type: ChannelType.PublicThread,
      guild_id: this.world.guildId,
      parent_id: message.channel_id,
      name: String((body.name as string | undefined) ?? 'thread'),
      owner_id: this.world.bot.id,
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      flags: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: (Number(body.auto_archive_duration) || 4320) as 60 | 1440 | 4320 | 10080,
        archive_timestamp: now,
        locked: false,
      },
      member: { id: message.id, user_id: this.world.bot.id, join_timestamp: now, flags: 0 },
    } as unknown as APIThreadChannel;
    this.world.channels.set(thread.id, thread);
    message.thread = thread;
    this.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return thread;
  }

  private record(token: string): InteractionRecord {
    const record = this.interactions.get(token);
    if (!record) fail(404, 10062, 'Unknown interaction');
    return record;
  }

  private interactionCallback(token: string, body: Json, query: Record<string, string>): unknown {
    const record = this.record(token);
    if (record.callbacks.length > 0) fail(400, 40060, 'Interaction has already been acknowledged.');
    const type = Number(body.type);
    const data = (body.data as Json | undefined) ?? {};
    record.callbacks.push(body.data === undefined ? { type } : { type, data });
    const flags = Number(data.flags ?? 0);
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        record.original = this.interactionMessage(record, data, flags);
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        // The "thinking…" message: an empty message until edited.
        record.original = this.interactionMessage(record, { content: '' }, flags | MessageFlags.Loading);
        break;
      case InteractionResponseType.DeferredMessageUpdate:
        break;
      case InteractionResponseType.UpdateMessage:
        if (record.source) this.editMessage(record.source, data);
        break;
      case InteractionResponseType.Modal:
        checkModal(data);
        break;
      default:
        fail(400, 50035, `Invalid Form Body (interaction response type ${type})`);
    }
    if (query.with_response !== 'true') return undefined;
    return {
      interaction: {
        id: record.id,
        type: 2,
        activity_instance_id: null,
        response_message_id: record.original?.id,
        response_message_loading: type === 5,
        response_message_ephemeral: (flags & MessageFlags.Ephemeral) !== 0,
      },
      resource: { type, message: record.original },
    };
  }

  private interactionMessage(record: InteractionRecord, data: Json, flags: number): APIMessage {
    const message = this.world.message(record.channelId, this.world.bot, {
      content: typeof data.content === 'string' ? data.content : '',
      embeds: (data.embeds as APIMessage['embeds'] | undefined) ?? [],
      components: (data.components as APIMessage['components'] | undefined) ?? [],
      flags,
      type: 20,
      webhook_id: this.world.applicationId,
      application_id: this.world.applicationId,
      interaction_metadata: {
        id: record.id,
        type: InteractionType.ApplicationCommand,
        user: this.world.users.get(record.userId)!,
        authorizing_integration_owners: {},
      },
    });
    // Ephemeral messages exist only for their user; public ones are in the channel.
    if ((flags & MessageFlags.Ephemeral) === 0) this.world.messages.set(message.id, message);
    return message;
  }

  private webhook(method: string, token: string, messageRef: string | undefined, body: Json, files: RecordedCall['files']): unknown {
    const record = this.record(token);
    if (record.callbacks.length === 0) fail(404, 10015, 'Unknown Webhook');
    const attachments = files.map((f) =>
      this.world.addFile(this.baseUrl, record.channelId, f.filename, f.contentType, Buffer.from(f.text, 'utf8')),
    );
    if (method === 'POST' && messageRef === undefined) {
      const message = this.interactionMessage(record, body, Number(body.flags ?? 0));
      message.attachments = attachments;
      record.followUps.push(message);
      return message;
    }
    const target =
      messageRef === '@original'
        ? (record.original ?? record.source)
        : [record.original, ...record.followUps].find((m) => m?.id === messageRef);
    if (!target || (messageRef === '@original' && record.originalDeleted)) return fail(404, 10008, 'Unknown Message');
    if (method === 'DELETE') {
      if (messageRef === '@original') record.originalDeleted = true;
      this.world.messages.delete(target.id);
      return undefined;
    }
    if (method === 'PATCH') {
      if (target.flags !== undefined) target.flags &= ~MessageFlags.Loading;
      if (attachments.length > 0) target.attachments = attachments;
      return this.editMessage(target, body);
    }
    if (method === 'GET') return target;
    return fail(405, 0, '405: Method Not Allowed');
  }
}

/**
 * What Discord checks of a modal (interaction response type 9): a custom id (at most 100
 * characters), a title (at most 45), 1–5 components, each text input with a custom id, a label
 * (at most 45) and a value no longer than its max_length (at most 4000).
 */
function checkModal(data: Json): void {
  const invalid = (why: string): never => fail(400, 50035, `Invalid Form Body (modal: ${why})`);
  if (typeof data.custom_id !== 'string' || data.custom_id.length === 0 || data.custom_id.length > 100) invalid('custom_id');
  if (typeof data.title !== 'string' || data.title.length === 0 || data.title.length > 45) invalid('title');
  const components = data.components;
  if (!Array.isArray(components) || components.length === 0 || components.length > 5) invalid('1 to 5 components');
  for (const row of components as Json[]) {
    const inputs =
      row.type === ComponentType.Label
        ? [row.component as Json]
        : row.type === ComponentType.ActionRow
          ? (row.components as Json[])
          : invalid(`component type ${String(row.type)}`);
    const label = row.type === ComponentType.Label ? row.label : inputs[0]?.label;
    if (typeof label !== 'string' || label.length === 0 || label.length > 45) invalid('label');
    for (const input of inputs) {
      if (input.type !== ComponentType.TextInput || typeof input.custom_id !== 'string') invalid('text input');
      const max = typeof input.max_length === 'number' ? input.max_length : 4000;
      if (max > 4000 || (typeof input.value === 'string' && input.value.length > max)) invalid('value longer than max_length');
    }
  }
}

function fail(status: number, code: number, message: string): never {
  throw new HttpError(status, code, message);
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseBody(raw: Buffer, type: string): Promise<{ body: unknown; files: RecordedCall['files'] }> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
    const files: RecordedCall['files'] = [];
    let body: unknown;
    for (const [field, value] of form.entries()) {
      if (field === 'payload_json' && typeof value === 'string') body = JSON.parse(value);
      else if (typeof value !== 'string') files.push({ field, filename: value.name, contentType: value.type, text: await value.text() });
    }
    return { body, files };
  }
  return { body: JSON.parse(raw.toString('utf8')), files: [] };
}

/**
 * Discord's answer to an injected status. A 429 is its rate limit response
 * (docs/topics/rate-limits.md): `{ message, retry_after, global }` with Retry-After in whole
 * seconds; a per-route limit (`user`, `shared`) also carries the bucket headers, a global one
 * X-RateLimit-Global instead. 502–504 come from the Cloudflare edge as an HTML page; other
 * statuses are the API's JSON error.
 */
function faultReply(fault: Extract<DiscordFault, { kind: 'status' }>, method: string, path: string): Reply {
  const { status } = fault;
  if (status === 429) {
    const retryAfter = fault.retryAfter ?? 1;
    const scope = fault.scope ?? 'user';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'retry-after': String(Math.ceil(retryAfter)),
      'x-ratelimit-scope': scope,
    };
    if (scope === 'global') headers['x-ratelimit-global'] = 'true';
    else {
      const limit = 5;
      Object.assign(headers, {
        'x-ratelimit-limit': String(limit),
        // A shared (per-resource) limit is not the bot's own bucket running out.
        'x-ratelimit-remaining': scope === 'user' ? '0' : String(limit - 1),
        'x-ratelimit-reset': (Date.now() / 1000 + retryAfter).toFixed(3),
        'x-ratelimit-reset-after': retryAfter.toFixed(3),
        'x-ratelimit-bucket': createHash('sha256')
          .update(`${method} ${path.replace(/\d{5,}/g, ':id')}`)
          .digest('hex')
          .slice(0, 32),
      });
    }
    const message = scope === 'shared' ? 'The resource is being rate limited.' : 'You are being rate limited.';
    return { status, headers, body: JSON.stringify({ message, retry_after: retryAfter, global: scope === 'global' }) };
  }
  const reason = STATUS_CODES[status] ?? 'Error';
  if (status >= 502 && status <= 504)
    return {
      status,
      headers: { 'content-type': 'text/html; charset=UTF-8' },
      body: `<html>\n<head><title>${status} ${reason}</title></head>\n<body>\n<center><h1>${status} ${reason}</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n`,
    };
  return jsonReply(status, { message: `${status}: ${reason}`, code: 0 });
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

export async function startDiscordSimulator(options: DiscordSimulatorOptions = {}): Promise<DiscordSimulator> {
  return new DiscordSimulator(options).listen();
}

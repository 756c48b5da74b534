/**
 * The fake Discord's state: one server with its roles, members and a text channel, the bot,
 * DM channels, messages, threads and attachment files. Objects are built in Discord's API v10
 * shapes (discord-api-types), so discord.js sees what it would see from discord.com.
 */
import type {
  APIAttachment,
  APIChannel,
  APIGuildMember,
  APIMessage,
  APIRole,
  APIUser,
  ChannelFlags,
  GuildMemberFlags,
  MessageFlags,
  RoleFlags,
} from 'discord.js';
import { ChannelType, PermissionFlagsBits } from 'discord.js';

const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

/** A fresh snowflake: creation time in the high bits, like Discord's. */
export function snowflake(): string {
  increment = (increment + 1n) % 4096n;
  return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | increment);
}

export interface FakeUser {
  user: APIUser;
  roleIds: string[];
}

export interface StoredFile {
  contentType: string;
  bytes: Buffer;
}

export interface WorldOptions {
  applicationId?: string;
  guildName?: string;
  botName?: string;
}

function user(id: string, username: string, bot = false): APIUser {
  return {
    id,
    username,
    discriminator: '0',
    global_name: bot ? null : username[0]!.toUpperCase() + username.slice(1),
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

export class World {
  readonly applicationId: string;
  readonly guildId = snowflake();
  readonly guildName: string;
  readonly channelId = snowflake();
  readonly bot: APIUser;
  /** Members by name: `owner`, `alice` (Manage Server through the Admins role), `bob`, `carol`. */
  readonly people: Record<'owner' | 'alice' | 'bob' | 'carol', APIUser>;
  readonly roles: APIRole[];
  readonly members = new Map<string, FakeUser>();
  readonly users = new Map<string, APIUser>();
  readonly channels = new Map<string, APIChannel>();
  readonly messages = new Map<string, APIMessage>();
  /** Reactions by message id: emoji → user ids. */
  readonly reactions = new Map<string, Map<string, Set<string>>>();
  readonly files = new Map<string, StoredFile>();
  /** Users whose DMs refuse the bot (code 50007). */
  readonly dmsClosed = new Set<string>();
  readonly adminRoleId = snowflake();
  readonly botRoleId = snowflake();

  constructor(options: WorldOptions = {}) {
    this.applicationId = options.applicationId ?? snowflake();
    this.guildName = options.guildName ?? 'Acme Community';
    this.bot = user(this.applicationId, options.botName ?? 'IQSP', true);
    this.people = {
      owner: user(snowflake(), 'owner'),
      alice: user(snowflake(), 'alice'),
      bob: user(snowflake(), 'bob'),
      carol: user(snowflake(), 'carol'),
    };
    const everyone =
      PermissionFlagsBits.ViewChannel |
      PermissionFlagsBits.SendMessages |
      PermissionFlagsBits.AddReactions |
      PermissionFlagsBits.ReadMessageHistory |
      PermissionFlagsBits.UseApplicationCommands |
      PermissionFlagsBits.AttachFiles;
    const role = (id: string, name: string, permissions: bigint, position: number, extra: Partial<APIRole> = {}): APIRole => ({
      id,
      name,
      permissions: String(permissions),
      position,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
      ...extra,
    });
    this.roles = [
      role(this.guildId, '@everyone', everyone, 0),
      role(this.adminRoleId, 'Admins', everyone | PermissionFlagsBits.ManageGuild, 1),
      role(
        this.botRoleId,
        options.botName ?? 'IQSP',
        everyone | PermissionFlagsBits.EmbedLinks | PermissionFlagsBits.CreatePublicThreads | PermissionFlagsBits.SendMessagesInThreads,
        2,
        {
          managed: true,
          tags: { bot_id: this.applicationId },
        },
      ),
    ];
    this.addMember(this.bot, [this.botRoleId]);
    this.addMember(this.people.owner, []);
    this.addMember(this.people.alice, [this.adminRoleId]);
    this.addMember(this.people.bob, []);
    this.addMember(this.people.carol, []);
    this.channels.set(this.channelId, {
      id: this.channelId,
      type: ChannelType.GuildText,
      guild_id: this.guildId,
      name: 'marketing',
      position: 0,
      permission_overwrites: [],
      nsfw: false,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      parent_id: null,
      flags: 0 as ChannelFlags,
    });
  }

  addMember(u: APIUser, roleIds: string[]): void {
    this.users.set(u.id, u);
    this.members.set(u.id, { user: u, roleIds });
  }

  member(userId: string): APIGuildMember {
    const m = this.members.get(userId);
    if (!m) throw new Error(`no member ${userId}`);
    return {
      user: m.user,
      nick: null,
      avatar: null,
      banner: null,
      roles: m.roleIds,
      joined_at: '2024-01-01T00:00:00.000Z',
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
    };
  }

  /** The member's permissions in the server, as Discord computes them for interactions. */
  permissions(userId: string): bigint {
    if (userId === this.people.owner.id) return ~0n & ((1n << 53n) - 1n);
    const roleIds = [this.guildId, ...(this.members.get(userId)?.roleIds ?? [])];
    let bits = 0n;
    for (const r of this.roles) if (roleIds.includes(r.id)) bits |= BigInt(r.permissions);
    return bits;
  }

  guildPayload(): Record<string, unknown> {
    return {
      id: this.guildId,
      name: this.guildName,
      icon: null,
      owner_id: this.people.owner.id,
      unavailable: false,
      large: false,
      member_count: this.members.size,
      joined_at: '2024-01-01T00:00:00.000Z',
      features: [],
      emojis: [],
      stickers: [],
      roles: this.roles,
      members: [...this.members.keys()].map((id) => this.member(id)),
      presences: [],
      voice_states: [],
      // Active threads come with the server, as Discord sends them.
      threads: [...this.channels.values()].filter((c) => c.type === ChannelType.PublicThread),
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      channels: [...this.channels.values()].filter(
        (c) => 'guild_id' in c && c.guild_id === this.guildId && c.type === ChannelType.GuildText,
      ),
      preferred_locale: 'en-US',
      premium_tier: 0,
      system_channel_flags: 0,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
    };
  }

  /** Stores bytes served at a URL on the fake's host, as Discord's CDN serves attachments. */
  addFile(
    baseUrl: string,
    channelId: string,
    filename: string,
    contentType: string,
    bytes: Buffer,
    size?: { width: number; height: number },
  ): APIAttachment {
    const id = snowflake();
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    this.files.set(path, { contentType, bytes });
    // Real CDN URLs are signed (ex, is, hm) and expire; the query is part of what the bot must keep.
    const url = `${baseUrl}${path}?ex=67e0f000&is=67df9e80&hm=${id}`;
    return { id, filename, size: bytes.length, url, proxy_url: url, content_type: contentType, ...(size ?? {}) };
  }

  guildChannel(channelId: string): boolean {
    const c = this.channels.get(channelId);
    return !!c && 'guild_id' in c && c.guild_id === this.guildId;
  }

  /** A message in Discord's shape; `mentions` are resolved from `<@id>` in the content. */
  message(channelId: string, author: APIUser, fields: Partial<APIMessage> = {}): APIMessage {
    const content = fields.content ?? '';
    const mentioned = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => this.users.get(m[1]!)).filter((u): u is APIUser => !!u);
    const mentionRoles = [...content.matchAll(/<@&(\d+)>/g)].map((m) => m[1]!);
    return {
      id: snowflake(),
      channel_id: channelId,
      author,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: mentioned,
      mention_roles: mentionRoles,
      attachments: [],
      embeds: [],
      pinned: false,
      type: 0,
      flags: 0 as MessageFlags,
      components: [],
      ...fields,
    };
  }

  /** The DM channel between the bot and `userId` (created on first use). */
  dmChannel(userId: string): APIChannel {
    for (const c of this.channels.values()) if (c.type === ChannelType.DM && c.recipients?.[0]?.id === userId) return c;
    const u = this.users.get(userId);
    if (!u) throw new Error(`no user ${userId}`);
    const channel: APIChannel = {
      id: snowflake(),
      type: ChannelType.DM,
      name: null,
      recipients: [u],
      last_message_id: null,
      flags: 0 as ChannelFlags,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** Messages of a channel or thread, oldest first. */
  messagesIn(channelId: string): APIMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId);
  }
}

/**
 * `/iqsp`: one slash command with a sub-command per chat command (contract.md §4) and typed
 * options, its registration, and the translation of a filled-in command into the core's
 * `Command`. Registration is a bulk overwrite (PUT), run by `iqsp discord register-commands`.
 */
import type { RESTPutAPIApplicationCommandsResult, SlashCommandStringOption } from 'discord.js';
import { ApplicationIntegrationType, InteractionContextType, REST, Routes, SlashCommandBuilder } from 'discord.js';
import type { Command, ParseResult, TargetSpec } from '../../core/grammar.js';
import { createGrammar } from '../../core/grammar.js';
import { parseWhenOnly } from '../../core/schedule/when.js';
import type { PlatformDescriptor, TargetOption } from '../../core/ports/platforms.js';
import { platformDescriptors } from '../../publishers/registry.js';
import { discordRestOptions } from './client.js';

export const COMMAND_NAME = 'iqsp';
export const MEDIA_OPTIONS = ['media1', 'media2', 'media3', 'media4'] as const;

const PLATFORMS = platformDescriptors();
/** The chat grammar over the registry's platforms: typed options are parsed as the words they stand for. */
const grammar = createGrammar(PLATFORMS);
const parseCommand = (text: string): ParseResult => grammar.parseCommand(text);
const platformChoices = PLATFORMS.map((p) => ({ name: p.id, value: p.id }));

/** The platforms whose posts take an option, each with it. */
const withTargetOption = PLATFORMS.flatMap((p) => (p.targetOption ? [{ platform: p, option: p.targetOption }] : []));

/** `tiktok_privacy`: the slash command's option for one platform's target option. */
function targetOptionName(platform: PlatformDescriptor, option: TargetOption): string {
  return `${platform.id}_${option.key}`;
}

/** "Facebook, Instagram, X and TikTok" */
function nameList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "(tiktok:public|friends|followers|private)" after the targets' description, for platforms whose posts need an option. */
const requiredOptionsHint = withTargetOption
  .filter(({ option }) => option.required)
  .map(({ platform, option }) => ` (${platform.id}:${option.words.join('|')})`)
  .join('');

const postIdOption = (description: string) => (o: SlashCommandStringOption) =>
  o.setName('post_id').setDescription(description).setRequired(true).setMinLength(4).setMaxLength(40);

/** The longest `when` worth reading (`at 2026-12-07 09:30` is 19 characters). */
const WHEN_MAX = 40;

/** Discord's limit on a description. */
const DESCRIPTION_MAX = 100;

/** "Publish to X, TikTok and … with your team’s approval", or without the names once they no longer fit Discord's 100 characters. */
export function commandDescription(platformNames: readonly string[]): string {
  const named = `Publish to ${nameList(platformNames)} with your team’s approval`;
  return named.length <= DESCRIPTION_MAX ? named : 'Publish to your social accounts with your team’s approval';
}

export function iqspCommand(): SlashCommandBuilder {
  const command = new SlashCommandBuilder()
    .setName(COMMAND_NAME)
    .setDescription(commandDescription(PLATFORMS.map((p) => p.displayName)))
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  command
    .addSubcommand((s) => s.setName('help').setDescription('The commands, and which platforms are enabled here'))
    .addSubcommand((s) =>
      s
        .setName('connect')
        .setDescription('A private link to connect an account')
        .addStringOption((o) =>
          o
            .setName('platform')
            .setDescription('The platform')
            .setRequired(true)
            .addChoices(...platformChoices),
        ),
    )
    .addSubcommand((s) => s.setName('accounts').setDescription('The connected accounts, who connected each, token health'))
    .addSubcommand((s) => {
      s.setName('post')
        .setDescription('Ask to publish: validated for every target, then shown here for approval')
        .addStringOption((o) =>
          o
            .setName('targets')
            .setDescription(`all, or platforms and @handles separated by commas${requiredOptionsHint}`)
            .setRequired(true)
            .setMaxLength(500),
        )
        .addStringOption((o) => o.setName('caption').setDescription('The caption').setMaxLength(6000))
        .addStringOption((o) =>
          o
            .setName('when')
            .setDescription('at 2026-12-07 09:30, at 09:30, tomorrow 09:30, in 90m, in 2h, in 3d or next; in your time zone')
            .setMaxLength(WHEN_MAX),
        );
      for (const name of MEDIA_OPTIONS) s.addAttachmentOption((o) => o.setName(name).setDescription('An image or a video'));
      for (const { platform, option } of withTargetOption)
        s.addStringOption((o) =>
          o
            .setName(targetOptionName(platform, option))
            .setDescription(option.description)
            .addChoices(...option.words.map((w) => ({ name: w, value: w }))),
        );
      return s;
    })
    .addSubcommand((s) =>
      s.setName('status').setDescription('Where a post stands, per target').addStringOption(postIdOption('The post id')),
    )
    .addSubcommand((s) =>
      s.setName('cancel').setDescription('Cancel what has not been published yet').addStringOption(postIdOption('The post id')),
    )
    .addSubcommand((s) =>
      s
        .setName('retry')
        .setDescription('Retry the targets that failed for a temporary reason')
        .addStringOption(postIdOption('The post id')),
    )
    .addSubcommand((s) =>
      s
        .setName('verify')
        .setDescription('Ask each platform whether the unconfirmed targets are live')
        .addStringOption(postIdOption('The post id')),
    )
    .addSubcommand((s) =>
      s
        .setName('disconnect')
        .setDescription('Revoke and delete a connected account')
        .addStringOption((o) =>
          o
            .setName('platform')
            .setDescription('The platform')
            .setRequired(true)
            .addChoices(...platformChoices),
        )
        .addStringOption((o) => o.setName('handle').setDescription('Which account, when several are connected (@handle)').setMaxLength(65)),
    )
    .addSubcommand((s) => s.setName('data').setDescription('Everything IQSP stores about you, as a JSON file in your DMs'))
    .addSubcommand((s) =>
      s
        .setName('delete-my-data')
        .setDescription('Delete everything IQSP stores about you')
        .addBooleanOption((o) => o.setName('confirm').setDescription('True to delete now; otherwise IQSP shows what would go')),
    )
    .addSubcommand((s) =>
      s
        .setName('approvers')
        .setDescription('Who may approve posts (admins change it)')
        .addStringOption((o) =>
          o
            .setName('action')
            .setDescription('Add or remove people; leave out to list them')
            .addChoices({ name: 'add', value: 'add' }, { name: 'remove', value: 'remove' }),
        )
        .addStringOption((o) => o.setName('users').setDescription('The people, as @mentions').setMaxLength(2000)),
    )
    .addSubcommand((s) =>
      s
        .setName('approvals')
        .setDescription('How many approvals a post needs here (admins)')
        .addIntegerOption((o) =>
          o.setName('count').setDescription('0 publishes without approval').setRequired(true).setMinValue(0).setMaxValue(50),
        ),
    )
    .addSubcommand((s) => s.setName('audit').setDescription('The latest entries of the audit log (admins)'))
    .addSubcommand((s) => s.setName('scheduled').setDescription('The upcoming scheduled posts, with their times in your time zone'))
    .addSubcommand((s) =>
      s
        .setName('edit')
        .setDescription('Change a post before it is published; approvals start over')
        .addStringOption(postIdOption('The post id'))
        // Discord lists required options first: the caption comes before the optional target.
        .addStringOption((o) =>
          o
            .setName('caption')
            .setDescription('The new caption (--- splits a thread); with a target, - removes its own version')
            .setRequired(true)
            .setMaxLength(6000),
        )
        .addStringOption((o) =>
          o.setName('target').setDescription('A platform or @handle: set that target’s own version instead').setMaxLength(70),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('reschedule')
        .setDescription('Move a scheduled post, or publish it as soon as it is approved')
        .addStringOption(postIdOption('The post id'))
        .addStringOption((o) =>
          o
            .setName('when')
            .setDescription('A time (at 09:30, tomorrow 09:30, in 2h, at 2026-12-07 09:30), or now: as soon as approved')
            .setRequired(true)
            .setMaxLength(WHEN_MAX),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('timezone')
        .setDescription('Show or set your time zone (Discord does not tell IQSP yours), or the server’s')
        .addStringOption((o) =>
          o
            .setName('zone')
            .setDescription('An IANA zone such as Europe/Berlin; workspace Europe/Berlin sets the server’s (admins)')
            .setMaxLength(80),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('slots')
        .setDescription('The weekly posting slots that post … next takes (admins change them)')
        .addStringOption((o) =>
          o
            .setName('days')
            .setDescription('mon-fri, mon,wed,fri, weekends, daily; off clears the slots; leave out to show them')
            .setMaxLength(60),
        )
        .addStringOption((o) =>
          o.setName('times').setDescription('Times of day such as 09:00,13:00, in the server’s time zone').setMaxLength(200),
        ),
    );
  return command;
}

/** What the translation needs from a slash command's options (discord.js's resolver fits). */
export interface SlashOptions {
  getSubcommand(): string;
  getString(name: string): string | null;
  getInteger(name: string): number | null;
  getBoolean(name: string): boolean | null;
}

/**
 * The core command for a filled-in `/iqsp`. Typed options are turned into the chat grammar's
 * words and parsed by the same parser as text, so both paths give the same answers; `post`
 * is built directly because its caption is free text.
 */
export function commandFromOptions(options: SlashOptions): ParseResult {
  const sub = options.getSubcommand();
  const str = (name: string) => options.getString(name)?.trim() ?? '';
  switch (sub) {
    case 'post': {
      const targets = grammar.parseTargets(str('targets'));
      if (typeof targets === 'string') return { ok: false, message: targets };
      // The same reading of a time as the text grammar's; `now` (or nothing) asks to publish once approved.
      const when = str('when') === '' ? undefined : parseWhenOnly(str('when'));
      if (when && !when.ok) return { ok: false, message: when.message };
      const command: Command = {
        kind: 'post',
        targets: withTargetOptions(targets, options),
        caption: options.getString('caption') ?? '',
        ...(when ? { when: when.when } : {}),
      };
      return { ok: true, command };
    }
    case 'connect':
      return parseCommand(`connect ${str('platform')}`);
    case 'disconnect': {
      const handle = str('handle').replace(/^@/, '');
      return parseCommand(`disconnect ${str('platform')}${handle ? ` @${handle}` : ''}`);
    }
    case 'status':
    case 'cancel':
    case 'retry':
    case 'verify':
      return parseCommand(`${sub} ${str('post_id')}`);
    case 'delete-my-data':
      return parseCommand(options.getBoolean('confirm') ? 'delete-my-data confirm' : 'delete-my-data');
    case 'approvers':
      return parseCommand(`approvers ${str('action')} ${str('users')}`);
    case 'approvals':
      return parseCommand(`approvals ${options.getInteger('count') ?? ''}`);
    case 'reschedule': {
      // One word of id, or the words after it would be read as the time.
      if (/\s/.test(str('post_id')))
        return { ok: false, message: `"${str('post_id')}" is not a post id. Usage: \`${grammar.usageLines.reschedule}\`` };
      return parseCommand(`reschedule ${str('post_id')} ${str('when')}`);
    }
    case 'edit':
      return editCommand(str('post_id'), str('target'), str('caption'));
    case 'timezone':
      // `workspace Europe/Berlin` in the option sets the workspace's, as the text does.
      return parseCommand(`timezone ${str('zone')}`);
    case 'slots':
      return parseCommand(`slots ${slotWords(str('days'))} ${slotWords(str('times'))}`);
    default:
      // help, accounts, data, audit, scheduled: no options; an unknown name gets the parser's own answer.
      return parseCommand(sub);
  }
}

/**
 * `edit <id> [<target>] <caption>` from the three options. The caption is quoted (the grammar
 * strips one pair of outer quotes) so that its first word is never read as a target, nor its own
 * quotes stripped; a bare `-` stays bare, since with a target it removes that target's version
 * (and without one the grammar says so).
 */
function editCommand(postId: string, target: string, caption: string): ParseResult {
  // One word of id and of target, or the words after them would be read as the caption.
  if (/\s/.test(postId)) return { ok: false, message: `"${postId}" is not a post id. Usage: \`${grammar.usageLines.edit}\`` };
  if (target !== '' && !isEditTarget(target))
    return {
      ok: false,
      message: `"${target}" is not a platform or an @handle. Platforms: ${PLATFORMS.map((p) => p.id).join(', ')}; or an account as @handle.`,
    };
  const text = caption === '-' ? caption : `"${caption}"`;
  return parseCommand(`edit ${postId}${target ? ` ${target}` : ''} ${text}`);
}

/** A platform id or an @handle, as the grammar reads an edit's target (one word; not `all`, no `:option`). */
function isEditTarget(word: string): boolean {
  if (word.startsWith('@')) return /^@[A-Za-z0-9._-]{1,64}$/.test(word);
  return PLATFORMS.some((p) => p.id === word.toLowerCase());
}

/** A list typed with spaces after its commas (`09:00, 13:00`) is one word of the grammar's. */
function slotWords(text: string): string {
  return text.replace(/\s*,\s*/g, ',');
}

/** A platform's option chosen in its own slash-command option applies to that platform's targets that name none. */
function withTargetOptions(targets: TargetSpec[], options: SlashOptions): TargetSpec[] {
  return targets.map((t) => {
    if (t.kind !== 'platform' || t.option) return t;
    const entry = withTargetOption.find(({ platform }) => platform.id === t.platform);
    const chosen = entry && options.getString(targetOptionName(entry.platform, entry.option));
    return chosen ? { ...t, option: chosen } : t;
  });
}

export interface RegisterCommandsOptions {
  token: string;
  applicationId: string;
  /** DISCORD_API_URL (e.g. https://discord.com/api). */
  apiUrl: string;
  /** One guild (instant, for development); without it the command is global. */
  guildId?: string | undefined;
}

/** Registers `/iqsp` (PUT /applications/{id}/commands, or …/guilds/{guild}/commands); returns the registered command names. */
export async function registerDiscordCommands(
  options: RegisterCommandsOptions,
): Promise<{ scope: 'global' | 'guild'; commands: string[] }> {
  const rest = new REST(discordRestOptions(options.apiUrl)).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  const registered = (await rest.put(route, { body: [iqspCommand().toJSON()] })) as RESTPutAPIApplicationCommandsResult;
  return { scope: options.guildId ? 'guild' : 'global', commands: registered.map((c) => c.name) };
}

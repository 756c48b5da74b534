/**
 * The chat grammar (contract.md §4): one parser from command text to a typed command, shared
 * by the Slack and Discord surfaces. It never throws: anything it cannot parse becomes a
 * message that says what was wrong and what to type instead. It knows platforms only as the
 * descriptions it is built with (`createGrammar`): their ids, names and target options.
 */
import type { Platform, PlatformDescriptor } from './ports/platforms.js';
import { parseWhenOnly, readWhen, type When } from './schedule/when.js';
import { parseSlots, type PostingSlots } from './schedule/slots.js';
import { canonicalZone } from './schedule/zones.js';

/** One entry of `<targets>`: a platform, an account handle, or `all`. */
export type TargetSpec =
  | { kind: 'all' }
  | { kind: 'platform'; platform: Platform; option?: string | undefined }
  | { kind: 'handle'; handle: string; option?: string | undefined };

/** Whose own version an `edit` changes: every target of a platform, or the account named by an @handle. */
export type EditTarget = { kind: 'platform'; platform: Platform } | { kind: 'handle'; handle: string };

/** A chat user as written in a command: a mention resolved by the chat surface to its id. */
export interface UserMention {
  userId: string;
}

export type Command =
  | { kind: 'help' }
  | { kind: 'connect'; platform: Platform }
  | { kind: 'accounts' }
  | { kind: 'post'; targets: TargetSpec[]; caption: string; when?: When | undefined }
  | { kind: 'status'; postId: string }
  | { kind: 'cancel'; postId: string }
  | { kind: 'retry'; postId: string }
  | { kind: 'verify'; postId: string }
  | { kind: 'disconnect'; platform: Platform; handle?: string | undefined }
  | { kind: 'data' }
  | { kind: 'delete-my-data'; confirmed: boolean }
  | { kind: 'approvers'; action: 'list' }
  | { kind: 'approvers'; action: 'add' | 'remove'; users: UserMention[] }
  | { kind: 'approvals'; count: number }
  | { kind: 'audit' }
  | { kind: 'scheduled' }
  | { kind: 'reschedule'; postId: string; when: When }
  /** `target` undefined: the caption; `text` null: `-`, the target's own version removed. */
  | { kind: 'edit'; postId: string; target?: EditTarget | undefined; text: string | null }
  | { kind: 'timezone'; scope: 'person' | 'workspace'; zone?: string | undefined }
  | { kind: 'slots'; action: 'show' }
  | { kind: 'slots'; action: 'set'; slots: PostingSlots }
  | { kind: 'slots'; action: 'off' };

export type CommandKind = Command['kind'];

export type ParseResult = { ok: true; command: Command } | { ok: false; message: string };

/** "TikTok needs tiktok:public|friends|followers|private", for each platform whose posts need an option. */
function requiredOptions(platforms: readonly PlatformDescriptor[]): string {
  return platforms
    .flatMap((p) => (p.targetOption?.required ? [`${p.displayName} needs ${p.id}:${p.targetOption.words.join('|')}`] : []))
    .map((line) => `; ${line}`)
    .join('');
}

/** Each command's usage line, naming these platforms. */
export function usageLines(platforms: readonly PlatformDescriptor[]): Record<CommandKind, string> {
  return {
    help: 'help',
    connect: `connect <${platforms.map((p) => p.id).join('|')}>`,
    accounts: 'accounts',
    post: `post <targets> [<when>] <caption>   targets: all, or a comma-separated list of platforms and @handles${requiredOptions(platforms)}; when: at YYYY-MM-DD HH:MM, at HH:MM, tomorrow HH:MM, in 90m, in 2h, in 3d, next`,
    status: 'status <post-id>',
    cancel: 'cancel <post-id>',
    retry: 'retry <post-id>',
    verify: 'verify <post-id>',
    disconnect: 'disconnect <platform> [@handle]',
    data: 'data',
    'delete-my-data': 'delete-my-data [confirm]',
    approvers: 'approvers [add|remove @user…]',
    approvals: 'approvals <n>',
    audit: 'audit',
    scheduled: 'scheduled',
    reschedule: 'reschedule <post-id> <when|now>',
    edit: "edit <post-id> [<platform>|@handle] <caption>   a target's own version; `-` removes it; `---` splits a thread of replies where the platform has them",
    timezone: 'timezone [<IANA zone>] | timezone workspace <zone>',
    slots: 'slots [<days> <HH:MM,…> | off]   e.g. slots mon-fri 09:00,13:00',
  };
}

const POST_ID = /^[A-Za-z0-9-]{4,40}$/;

/**
 * Abbreviations the IANA database keeps as zones with a fixed offset (EST is Panama's clock, MST
 * Phoenix's): someone typing one most likely means a region's clock, which moves in summer, and
 * would post an hour off for half the year. The place that person means.
 */
const FIXED_OFFSET_ABBREVIATIONS: Readonly<Record<string, string>> = { EST: 'America/New_York', MST: 'America/Denver' };

function fail(message: string): ParseResult {
  return { ok: false, message };
}

function ok(command: Command): ParseResult {
  return { ok: true, command };
}

/** `<@U123>`, `<@U123|name>` (Slack), `<@123>`, `<@!123>` (Discord). */
function parseMention(word: string): UserMention | undefined {
  const match = /^<@!?([A-Za-z0-9_]+)(?:\|[^>]*)?>$/.exec(word);
  return match ? { userId: match[1]! } : undefined;
}

/** Strips one pair of matching outer quotes ("…", '…', “…”). */
function unquote(text: string): string {
  const trimmed = text.trim();
  const pairs: Array<[string, string]> = [
    ['"', '"'],
    ["'", "'"],
    ['“', '”'],
  ];
  for (const [open, close] of pairs)
    if (trimmed.length >= 2 && trimmed.startsWith(open) && trimmed.endsWith(close)) return trimmed.slice(1, -1);
  return trimmed;
}

/** The grammar over a set of platforms (the registry's, handed in by the composition root). */
export class Grammar {
  /** Each command's usage line. */
  readonly usageLines: Record<CommandKind, string>;
  private readonly ids: readonly string[];

  constructor(readonly platforms: readonly PlatformDescriptor[]) {
    this.usageLines = usageLines(platforms);
    this.ids = platforms.map((p) => p.id);
  }

  private isPlatform(word: string): word is Platform {
    return this.ids.includes(word);
  }

  private usage(kind: CommandKind): string {
    return `Usage: \`${this.usageLines[kind]}\``;
  }

  private parsePlatform(word: string | undefined, kind: CommandKind): Platform | ParseResult {
    if (!word) return fail(`Which platform? ${this.usage(kind)}`);
    const platform = word.toLowerCase();
    if (this.isPlatform(platform)) return platform;
    return fail(`"${word}" is not a platform IQSP knows. Choose one of: ${this.ids.join(', ')}.`);
  }

  /** Whether `word` reads as one target: a platform (with its option), an @handle, or `all`. */
  private isTargetWord(word: string): boolean {
    const [name, option, extra] = word.split(':');
    if (extra !== undefined || name === undefined || option === '') return false;
    if (name.toLowerCase() === 'all') return option === undefined;
    return this.isPlatform(name.toLowerCase()) || /^@[A-Za-z0-9._-]{1,64}$/.test(name);
  }

  parseTargets(text: string): TargetSpec[] | string {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0) return `Which accounts? ${this.usage('post')}`;
    const targets: TargetSpec[] = [];
    for (const item of items) {
      if (item.toLowerCase() === 'all') {
        targets.push({ kind: 'all' });
        continue;
      }
      const [name, option, extra] = item.split(':');
      if (extra !== undefined || name === undefined || name === '') return `"${item}" is not a target. ${this.usage('post')}`;
      const lowerOption = option?.toLowerCase();
      if (option !== undefined && lowerOption === '') return `"${item}" has an empty option after ":".`;
      if (name.startsWith('@')) {
        const handle = name.slice(1);
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(handle)) return `"${name}" is not an account handle.`;
        targets.push({ kind: 'handle', handle, option: lowerOption });
        continue;
      }
      const platform = name.toLowerCase();
      if (!this.isPlatform(platform)) return `"${name}" is not a platform or an @handle. Platforms: ${this.ids.join(', ')}.`;
      targets.push({ kind: 'platform', platform, option: lowerOption });
    }
    return targets;
  }

  /**
   * Parses the text after `/iqsp` (or after the bot's mention). Leading and trailing blanks are
   * ignored; command words are case-insensitive; the caption keeps its own case and line breaks.
   */
  parseCommand(input: string): ParseResult {
    const text = input.trim();
    if (text === '') return ok({ kind: 'help' });
    const match = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
    const word = match[1]!.toLowerCase();
    const rest = match[2]!;
    const args = rest.split(/\s+/).filter((s) => s !== '');

    switch (word) {
      case 'help':
        return ok({ kind: 'help' });
      case 'connect': {
        const platform = this.parsePlatform(args[0], 'connect');
        if (typeof platform !== 'string') return platform;
        if (args.length > 1) return fail(`connect takes one platform. ${this.usage('connect')}`);
        return ok({ kind: 'connect', platform });
      }
      case 'accounts':
        return ok({ kind: 'accounts' });
      case 'post': {
        const words = rest.trim();
        const first = /^(\S+)\s*([\s\S]*)$/.exec(words);
        if (!first) return fail(`What should be posted, and where? ${this.usage('post')}`);
        // More targets may follow, separated by spaces, while each word is one (`post all tiktok:public Hi`).
        let targetText = first[1]!;
        let after = first[2]!;
        for (let next = /^(\S+)\s*([\s\S]*)$/.exec(after); next && this.isTargetWord(next[1]!); next = /^(\S+)\s*([\s\S]*)$/.exec(after)) {
          targetText += `,${next[1]!}`;
          after = next[2]!;
        }
        const targets = this.parseTargets(targetText);
        if (typeof targets === 'string') return fail(targets);
        const when = readWhen(after);
        if (when.kind === 'error') return fail(when.message);
        if (when.kind === 'when') return ok({ kind: 'post', targets, when: when.when, caption: unquote(when.rest) });
        return ok({ kind: 'post', targets, caption: unquote(after) });
      }
      case 'status':
      case 'cancel':
      case 'retry':
      case 'verify': {
        const postId = args[0];
        if (!postId) return fail(`Which post? ${this.usage(word)}`);
        if (!POST_ID.test(postId) || args.length > 1) return fail(`"${rest.trim()}" is not a post id. ${this.usage(word)}`);
        return ok({ kind: word, postId: postId.toUpperCase() });
      }
      case 'disconnect': {
        const platform = this.parsePlatform(args[0], 'disconnect');
        if (typeof platform !== 'string') return platform;
        const handleWord = args[1];
        if (args.length > 2) return fail(`disconnect takes a platform and at most one @handle. ${this.usage('disconnect')}`);
        if (handleWord === undefined) return ok({ kind: 'disconnect', platform });
        return ok({ kind: 'disconnect', platform, handle: handleWord.replace(/^@/, '') });
      }
      case 'data':
        return ok({ kind: 'data' });
      case 'delete-my-data': {
        if (args.length === 0) return ok({ kind: 'delete-my-data', confirmed: false });
        if (args.length === 1 && args[0]!.toLowerCase() === 'confirm') return ok({ kind: 'delete-my-data', confirmed: true });
        return fail(`To delete your data, type \`delete-my-data confirm\`.`);
      }
      case 'approvers': {
        if (args.length === 0) return ok({ kind: 'approvers', action: 'list' });
        const action = args[0]!.toLowerCase();
        if (action !== 'add' && action !== 'remove') return fail(`approvers takes add or remove. ${this.usage('approvers')}`);
        const users: UserMention[] = [];
        for (const w of args.slice(1)) {
          const mention = parseMention(w);
          if (!mention) return fail(`"${w}" is not a user mention; mention people with @. ${this.usage('approvers')}`);
          users.push(mention);
        }
        if (users.length === 0) return fail(`Whom should I ${action}? ${this.usage('approvers')}`);
        return ok({ kind: 'approvers', action, users });
      }
      case 'approvals': {
        const n = args[0];
        if (n === undefined || !/^\d{1,2}$/.test(n) || args.length > 1)
          return fail(`approvals takes a whole number from 0 to 50. ${this.usage('approvals')}`);
        const count = Number(n);
        if (count > 50) return fail(`approvals takes a whole number from 0 to 50. ${this.usage('approvals')}`);
        return ok({ kind: 'approvals', count });
      }
      case 'audit':
        return ok({ kind: 'audit' });
      case 'scheduled':
        return ok({ kind: 'scheduled' });
      case 'reschedule': {
        const postId = args[0];
        if (!postId || !POST_ID.test(postId)) return fail(`Which post, and when? ${this.usage('reschedule')}`);
        const whenText = rest.trim().slice(postId.length);
        if (whenText.trim() === '') return fail(`When should post ${postId.toUpperCase()} go out? ${this.usage('reschedule')}`);
        const when = parseWhenOnly(whenText);
        if (!when.ok) return fail(when.message);
        return ok({ kind: 'reschedule', postId: postId.toUpperCase(), when: when.when });
      }
      case 'edit': {
        const head = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
        const postId = head?.[1];
        if (!postId || !POST_ID.test(postId)) return fail(`Which post, and what should it say? ${this.usage('edit')}`);
        let after = head[2]!;
        let target: EditTarget | undefined;
        const next = /^(\S+)(?:\s+([\s\S]*))?$/.exec(after);
        const word = next?.[1];
        // A platform or an @handle first names the target (`all` and `platform:option` are caption words here).
        if (word && !word.includes(':') && word.toLowerCase() !== 'all' && this.isTargetWord(word)) {
          target = word.startsWith('@')
            ? { kind: 'handle', handle: word.slice(1) }
            : { kind: 'platform', platform: word.toLowerCase() as Platform };
          after = next[2] ?? '';
        }
        const text = unquote(after);
        if (after.trim() === '-') {
          if (!target) return fail(`\`-\` removes a target's own version: name the target (\`edit ${postId.toUpperCase()} x -\`).`);
          return ok({ kind: 'edit', postId: postId.toUpperCase(), target, text: null });
        }
        if (after.trim() === '') return fail(`What should post ${postId.toUpperCase()} say? ${this.usage('edit')}`);
        return ok({ kind: 'edit', postId: postId.toUpperCase(), ...(target ? { target } : {}), text });
      }
      case 'timezone': {
        const workspace = args[0]?.toLowerCase() === 'workspace';
        const zoneWord = workspace ? args[1] : args[0];
        if (args.length > (workspace ? 2 : 1)) return fail(`timezone takes one zone. ${this.usage('timezone')}`);
        if (zoneWord === undefined) return ok({ kind: 'timezone', scope: workspace ? 'workspace' : 'person' });
        const place = FIXED_OFFSET_ABBREVIATIONS[zoneWord.toUpperCase()];
        if (place)
          return fail(
            `"${zoneWord}" is a fixed offset from UTC that never changes for daylight saving. Use the name of a place, such as ${place}.`,
          );
        const zone = canonicalZone(zoneWord);
        if (!zone)
          return fail(`"${zoneWord}" is not a time zone IQSP knows. Use an IANA name such as Europe/Berlin, America/New_York or UTC.`);
        return ok({ kind: 'timezone', scope: workspace ? 'workspace' : 'person', zone });
      }
      case 'slots': {
        // Blanks around commas are part of a list (`mon, wed 09:00, 13:00`), as Discord's options are read.
        const words = rest
          .replace(/\s*,\s*/g, ',')
          .split(/\s+/)
          .filter((s) => s !== '');
        if (words.length === 0) return ok({ kind: 'slots', action: 'show' });
        if (words.length === 1 && ['off', 'clear', 'none'].includes(words[0]!.toLowerCase())) return ok({ kind: 'slots', action: 'off' });
        if (words.length !== 2) return fail(`slots takes days and times. ${this.usage('slots')}`);
        const slots = parseSlots(words[0]!, words[1]!);
        if (typeof slots === 'string') return fail(`${slots} ${this.usage('slots')}`);
        return ok({ kind: 'slots', action: 'set', slots });
      }
      default:
        return fail(`I don't know the command "${match[1]}". Type \`help\` for the commands.`);
    }
  }

  /** The help text: the commands and which platforms this install has enabled (by display name). */
  helpText(enabledPlatforms: readonly string[], prefix = '/iqsp'): string {
    const platforms =
      enabledPlatforms.length > 0
        ? `Platforms enabled here: ${enabledPlatforms.join(', ')}.`
        : 'No platform is enabled on this install yet: an admin must configure at least one platform app.';
    const lines = (Object.keys(this.usageLines) as CommandKind[]).map((k) => `• \`${prefix} ${this.usageLines[k]}\``);
    return ['*IQSP commands*', ...lines, platforms, 'Approve a post with ✅ on its message; ❌ rejects it.'].join('\n');
  }
}

export function createGrammar(platforms: readonly PlatformDescriptor[]): Grammar {
  return new Grammar(platforms);
}

/**
 * A word of a platform's target option (TikTok's privacy level: public, friends, ...); which words
 * there are is the platform's (`PlatformDescriptor.targetOption`).
 */
export type TargetOptionWord = string;

/**
 * The `/iqsp post` modal: caption (prefilled from the command text), the workspace's
 * connected accounts as targets, the privacy level of platforms whose posts need one (the
 * registry's target option, TikTok's: no default, TikTok forbids a preselected level; once
 * creator_info has answered, only the levels the account allows), an optional "When" (a
 * `datetimepicker`: Slack shows it in the person's own zone and sends the instant, unix
 * seconds; empty: published once approved), and a `file_input` of up to 10 files. The channel
 * the command came from, and the levels allowed, travel in `private_metadata`, since a view
 * submission carries neither.
 *
 * Each chosen platform gets an optional field for its own version (issue 16), and under the
 * caption and each version a live count of what the platform counts (X's weighted length, the
 * others' limits). Those fields and the accounts dispatch a `block_actions` as the person types
 * or chooses; the view is rebuilt from its state (what was typed kept) and put back with
 * `views.update`, guarded by the view's hash. The same modal, opened by the approval message's
 * Edit button, shows only the caption and the versions, filled in, for the post it names.
 */
import type { types, ViewOutput } from '@slack/bolt';
import type { Platform } from '../../core/ports/platforms.js';
import type { TargetOptionWord } from '../../core/grammar.js';
import { platformDescriptors } from '../../publishers/registry.js';
import { NOTHING_POSTED } from '../../core/actions.js';
import { MAX_ATTACHMENTS } from '../../core/posts.js';
import { clip, toMrkdwn } from './text.js';
import type { RichText } from '../../core/ports/rich-text.js';

type ModalView = types.ModalView;
type KnownBlock = types.KnownBlock;
type Option = types.PlainTextOption;

export const POST_VIEW_ID = 'iqsp_post';

/** The option posts must choose (TikTok's privacy level), and the platform whose it is: the registry's first required target option. */
const PRIVACY = platformDescriptors().flatMap((p) => (p.targetOption?.required ? [{ platform: p.id, option: p.targetOption }] : []))[0];
/** Its words, in the order the form offers them. */
const PRIVACY_WORDS: readonly string[] = PRIVACY?.option.words ?? [];

export const BLOCKS = {
  caption: 'caption',
  /** The live counts under the caption. */
  captionCount: 'caption_count',
  targets: 'targets',
  /** `tiktok_privacy` */
  privacy: PRIVACY ? `${PRIVACY.platform}_${PRIVACY.option.key}` : 'privacy',
  media: 'media',
  when: 'when',
  notice: 'notice',
} as const;
/** Each input block holds one element; its action id is the block id. */
const ACTION = BLOCKS;

/** Slack's limits: checkboxes hold at most 10 options, a multi-select 100; a plain-text input 3000 characters. */
const CHECKBOXES_MAX = 10;
const CAPTION_MAX = 3000;
const CONTEXT_ELEMENTS_MAX = 10;

/** A platform's own-version field: `version_x`, its action id the same; its live count below it. */
const VERSION_PREFIX = 'version_';
function versionBlock(platform: Platform): string {
  return `${VERSION_PREFIX}${platform}`;
}
function versionCountBlock(platform: Platform): string {
  return `${versionBlock(platform)}_count`;
}
const PLATFORM_NAMES = new Map<string, string>(platformDescriptors().map((p) => [p.id, p.displayName]));
function isPlatform(value: string): value is Platform {
  return PLATFORM_NAMES.has(value);
}

/** The fields whose changes re-render the modal: the text fields (for their counts) and the accounts (for the version fields). */
export function isLiveField(actionId: string): boolean {
  return actionId === ACTION.caption || actionId === ACTION.targets || actionId.startsWith(VERSION_PREFIX);
}

/** What each platform counts in a text (core's `textCounts`). */
export type TextCounts = (platforms: readonly Platform[], text: string) => ReadonlyArray<{ line: string; over: boolean }>;

export interface FormAccount {
  id: string;
  platform: Platform;
  label: string;
  /** The platform's name when posts to it need a privacy level (the publisher says so). */
  privacyFor?: string | undefined;
}

export interface FormValues {
  caption?: string | undefined;
  accountIds?: readonly string[] | undefined;
  privacy?: TargetOptionWord | undefined;
  when?: Date | undefined;
  /** Each platform's own version, as typed. */
  versions?: ReadonlyMap<Platform, string> | undefined;
}

export interface FormMetadata {
  channelId: string;
  /** The privacy levels the form's one privacy-needing account allows (creator_info); absent until known, or with several such accounts. */
  privacyChoices?: TargetOptionWord[] | undefined;
  /** Set when the modal edits a post (the Edit button): which, and its platforms (the form then shows the caption and versions only). */
  edit?: { postId: string; platforms: Platform[] } | undefined;
}

export interface SubmittedFile {
  id: string;
  name: string | undefined;
  urlPrivateDownload: string | undefined;
  fileAccess: string | undefined;
}

export interface SubmittedForm {
  caption: string;
  accountIds: string[];
  privacy: TargetOptionWord | undefined;
  /** The picker's instant; undefined when left empty. */
  when: Date | undefined;
  files: SubmittedFile[];
  /** The own versions typed, by platform (blank ones included: in an edit, blank removes the version). */
  versions: Map<Platform, string>;
  metadata: FormMetadata;
}

function plain(text: string, max = 75): types.PlainTextElement {
  return { type: 'plain_text', text: clip(text, max) };
}

function accountOption(account: FormAccount): Option {
  return { text: plain(account.label), value: account.id };
}

function privacyOption(privacy: TargetOptionWord): Option {
  return { text: plain(PRIVACY?.option.labels[privacy] ?? privacy), value: privacy };
}

/** The platforms of the chosen accounts, each once, in the form's order. */
function chosenPlatforms(accounts: readonly FormAccount[], accountIds: readonly string[] | undefined): Platform[] {
  return [...new Set(accounts.filter((a) => accountIds?.includes(a.id)).map((a) => a.platform))];
}

/** A multiline text field that dispatches as the person types (for its live count), keeping `value`. */
function liveInput(blockId: string, label: string, value: string | undefined, hint?: string): types.InputBlock {
  const element: types.PlainTextInput = {
    type: 'plain_text_input',
    action_id: blockId,
    multiline: true,
    max_length: CAPTION_MAX,
    dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
  };
  if (value) element.initial_value = clip(value, CAPTION_MAX);
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    optional: true,
    dispatch_action: true,
    element,
    ...(hint ? { hint: plain(hint, 150) } : {}),
  };
}

/** The live count under a field, one line per platform (none when no platform is chosen). */
function countBlock(blockId: string, lines: ReadonlyArray<{ line: string; over: boolean }>): KnownBlock[] {
  if (lines.length === 0) return [];
  return [
    {
      type: 'context',
      block_id: blockId,
      elements: lines
        .slice(0, CONTEXT_ELEMENTS_MAX)
        .map((l) => ({ type: 'plain_text', text: clip(`${l.over ? '⚠️ ' : ''}${l.line}`, 2000) })),
    },
  ];
}

/** An own-version field per platform, each with its platform's count. */
function versionBlocks(platforms: readonly Platform[], values: FormValues, counts: TextCounts | undefined): KnownBlock[] {
  return platforms.flatMap((platform) => {
    const name = PLATFORM_NAMES.get(platform) ?? platform;
    const text = values.versions?.get(platform);
    return [
      liveInput(versionBlock(platform), `Own version for ${name}`, text, `Optional: what ${name} publishes instead of the caption.`),
      ...countBlock(versionCountBlock(platform), text?.trim() ? (counts?.([platform], text) ?? []) : []),
    ];
  });
}

export function postView(
  accounts: readonly FormAccount[],
  values: FormValues,
  metadata: FormMetadata,
  problems: readonly string[] = [],
  counts?: TextCounts,
): ModalView {
  const blocks: KnownBlock[] = [];
  if (problems.length > 0)
    blocks.push({
      type: 'section',
      block_id: BLOCKS.notice,
      text: {
        type: 'mrkdwn',
        text: clip(toMrkdwn([`*${NOTHING_POSTED}*`, ...problems.map((p) => `• ${p}`)].join('\n')), 3000),
      },
    });

  const editing = metadata.edit;
  const platforms = editing ? editing.platforms : chosenPlatforms(accounts, values.accountIds);
  blocks.push(liveInput(BLOCKS.caption, 'Caption', values.caption));
  blocks.push(...countBlock(BLOCKS.captionCount, counts?.(platforms, values.caption ?? '') ?? []));
  if (editing) {
    blocks.push(...versionBlocks(platforms, values, counts));
    return {
      type: 'modal',
      callback_id: POST_VIEW_ID,
      title: plain(`Edit post ${editing.postId}`, 24),
      submit: plain('Save', 24),
      close: plain('Cancel', 24),
      private_metadata: JSON.stringify(metadata),
      blocks,
    };
  }

  const options = accounts.map(accountOption);
  const selected = options.filter((o) => values.accountIds?.includes(o.value ?? ''));
  if (options.length <= CHECKBOXES_MAX) {
    const checkboxes: types.Checkboxes = { type: 'checkboxes', action_id: ACTION.targets, options };
    if (selected.length > 0) checkboxes.initial_options = selected;
    blocks.push({ type: 'input', block_id: BLOCKS.targets, label: plain('Post to'), dispatch_action: true, element: checkboxes });
  } else {
    const select: types.MultiStaticSelect = {
      type: 'multi_static_select',
      action_id: ACTION.targets,
      options: options.slice(0, 100),
      placeholder: plain('Choose accounts'),
    };
    if (selected.length > 0) select.initial_options = selected;
    blocks.push({ type: 'input', block_id: BLOCKS.targets, label: plain('Post to'), dispatch_action: true, element: select });
  }
  blocks.push(...versionBlocks(platforms, values, counts));

  const privacyPlatforms = [...new Set(accounts.flatMap((a) => (a.privacyFor ? [a.privacyFor] : [])))];
  if (privacyPlatforms.length > 0) {
    const names = privacyPlatforms.join(' and ');
    const known = metadata.privacyChoices !== undefined && metadata.privacyChoices.length > 0;
    const levels = known
      ? PRIVACY_WORDS.filter(isPrivacy).filter((p) => metadata.privacyChoices!.includes(p))
      : PRIVACY_WORDS.filter(isPrivacy);
    const select: types.StaticSelect = {
      type: 'static_select',
      action_id: ACTION.privacy,
      placeholder: plain(`Who can see it on ${names}`),
      options: levels.map(privacyOption),
    };
    if (values.privacy && levels.includes(values.privacy)) select.initial_option = privacyOption(values.privacy);
    blocks.push({
      type: 'input',
      block_id: BLOCKS.privacy,
      label: plain(`${names} privacy`),
      hint: plain(
        known
          ? `Needed when posting to ${names}; these are the levels your ${names} account allows right now.`
          : `Needed when posting to ${names}; the levels your account allows are checked before the request is shown.`,
        150,
      ),
      optional: true,
      element: select,
    });
  }

  const picker: types.DateTimepicker = { type: 'datetimepicker', action_id: ACTION.when };
  if (values.when) picker.initial_date_time = Math.floor(values.when.getTime() / 1000);
  blocks.push({
    type: 'input',
    block_id: BLOCKS.when,
    label: plain('When'),
    hint: plain('Empty: published as soon as it is approved. Set: approvers have until then, and it goes out at that time.', 150),
    optional: true,
    element: picker,
  });

  blocks.push({
    type: 'input',
    block_id: BLOCKS.media,
    label: plain('Photos or video'),
    optional: true,
    element: { type: 'file_input', action_id: ACTION.media, max_files: MAX_ATTACHMENTS },
  });

  return {
    type: 'modal',
    callback_id: POST_VIEW_ID,
    title: plain('Post with IQSP', 24),
    submit: plain('Request approval', 24),
    close: plain('Cancel', 24),
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}

/** A modal that only says something (while checking files, or once done). */
export function noticeView(title: string, text: RichText, metadata: FormMetadata): ModalView {
  return {
    type: 'modal',
    callback_id: POST_VIEW_ID,
    title: plain(title, 24),
    close: plain('Close', 24),
    private_metadata: JSON.stringify(metadata),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(toMrkdwn(text), 3000) } }],
  };
}

function isPrivacy(value: string | undefined): value is TargetOptionWord {
  return value !== undefined && PRIVACY_WORDS.includes(value);
}

/** The edit a modal's metadata names, if it is well formed. */
function editOf(value: unknown): FormMetadata['edit'] {
  if (typeof value !== 'object' || value === null) return undefined;
  const { postId, platforms } = value as { postId?: unknown; platforms?: unknown };
  if (typeof postId !== 'string' || !Array.isArray(platforms)) return undefined;
  return { postId, platforms: platforms.filter((p): p is Platform => typeof p === 'string' && isPlatform(p)) };
}

/** The own versions in a view's state, by platform. */
function versionsOf(values: ViewOutput['state']['values']): Map<Platform, string> {
  const versions = new Map<Platform, string>();
  for (const [block, actions] of Object.entries(values)) {
    if (!block.startsWith(VERSION_PREFIX)) continue;
    const platform = block.slice(VERSION_PREFIX.length);
    if (isPlatform(platform)) versions.set(platform, actions[block]?.value ?? '');
  }
  return versions;
}

/** Reads a submitted post modal (or one being filled in, from a `block_actions`); what is missing reads as empty. */
export function readPostForm(view: Pick<ViewOutput, 'state' | 'private_metadata'>): SubmittedForm {
  const values = view.state.values;
  const field = (block: string) => values[block]?.[block];
  const metadata = JSON.parse(view.private_metadata || '{}') as Partial<FormMetadata>;
  if (typeof metadata.channelId !== 'string' || metadata.channelId === '') throw new Error('the post modal carries no channel');
  const edit = editOf(metadata.edit);
  const privacy = field(BLOCKS.privacy)?.selected_option?.value;
  const when = field(BLOCKS.when)?.selected_date_time;
  return {
    caption: field(BLOCKS.caption)?.value ?? '',
    accountIds: (field(BLOCKS.targets)?.selected_options ?? []).map((o) => o.value),
    privacy: isPrivacy(privacy) ? privacy : undefined,
    when: typeof when === 'number' && Number.isFinite(when) ? new Date(when * 1000) : undefined,
    files: (field(BLOCKS.media)?.files ?? []).map((f) => ({
      id: f.id,
      name: f.name,
      urlPrivateDownload: f.url_private_download || f.url_private || undefined,
      fileAccess: f.file_access,
    })),
    versions: versionsOf(values),
    metadata: {
      channelId: metadata.channelId,
      privacyChoices: Array.isArray(metadata.privacyChoices) ? metadata.privacyChoices.filter(isPrivacy) : undefined,
      ...(edit ? { edit } : {}),
    },
  };
}

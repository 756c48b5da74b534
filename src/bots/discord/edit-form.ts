/**
 * The approval message's Edit button, in Discord: a modal (interaction response type 9) filled
 * in with the post's caption and each platform's own version, and the reading of its submission.
 * A modal holds at most 5 inputs, so the caption and up to 4 platforms; the versions of further
 * platforms are not shown, and a submission leaves what it does not show alone (Inbound.submitEditForm).
 */
import type { APIModalInteractionResponseCallbackData, ModalSubmitFields } from 'discord.js';
import { LabelBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { EditableContent } from '../../core/posts.js';
import type { Platform } from '../../core/ports/platforms.js';
import { platformDescriptors } from '../../publishers/registry.js';
import { decodeCustomId, encodeCustomId } from './render.js';

/** The modal's custom id is `edit_post_form:<post id>`. */
export const EDIT_FORM_ID = 'edit_post_form';
const CAPTION_INPUT = 'caption';
/** A platform's version input is `version:<platform>`. */
const VERSION_INPUT = 'version';

/** Discord's limits: inputs per modal, characters per text input, per title and per label. */
const MODAL_INPUTS = 5;
const INPUT_MAX = 4000;
const TITLE_MAX = 45;

const descriptors = platformDescriptors();

function displayName(platform: Platform): string {
  return descriptors.find((d) => d.id === platform)?.displayName ?? platform;
}

/** The modal for `postId`, or why its content does not fit one (a text past a text input's 4000 characters). */
export function editModal(postId: string, content: EditableContent): APIModalInteractionResponseCallbackData | { refused: string } {
  const shown = content.platforms.slice(0, MODAL_INPUTS - 1);
  const tooLong = [content.caption, ...shown.map((p) => p.version)].some((text) => text.length > INPUT_MAX);
  if (tooLong)
    return {
      refused: `Post ${postId} has a text longer than a Discord form takes (${INPUT_MAX.toLocaleString('en-US')} characters): use \`/iqsp edit\`.`,
    };
  // Not required: a post of media alone has no caption (the core says when a platform needs one).
  const caption = new LabelBuilder()
    .setLabel('Caption')
    .setDescription('Published where a platform has no version of its own')
    .setTextInputComponent(textInput(CAPTION_INPUT, content.caption));
  const versions = shown.map(({ platform, version }) =>
    new LabelBuilder()
      .setLabel(`${displayName(platform)} version`)
      .setDescription(`Its own text for ${displayName(platform)}; blank publishes the caption there`)
      .setTextInputComponent(textInput(`${VERSION_INPUT}:${platform}`, version)),
  );
  return new ModalBuilder()
    .setCustomId(encodeCustomId(EDIT_FORM_ID, postId))
    .setTitle(`Edit post ${postId}`.slice(0, TITLE_MAX))
    .addLabelComponents(caption, ...versions)
    .toJSON();
}

/** An optional paragraph input filled in with `value`; an empty value is left out (Discord refuses one shorter than min_length, 1 by default). */
function textInput(customId: string, value: string): TextInputBuilder {
  const input = new TextInputBuilder().setCustomId(customId).setStyle(TextInputStyle.Paragraph).setRequired(false).setMaxLength(INPUT_MAX);
  return value === '' ? input : input.setValue(value);
}

/** The post id of an edit modal's custom id, or undefined for any other modal. */
export function editFormPostId(customId: string): string | undefined {
  const { actionId, value } = decodeCustomId(customId);
  return actionId === EDIT_FORM_ID && value !== '' ? value : undefined;
}

/** The caption and the versions a submitted edit modal shows (only platforms IQSP knows). */
export function editFormValues(fields: ModalSubmitFields): { caption: string; versions: Map<Platform, string> } {
  const versions = new Map<Platform, string>();
  for (const id of fields.fields.keys()) {
    const { actionId, value } = decodeCustomId(id);
    const known = descriptors.find((d) => d.id === value);
    if (actionId === VERSION_INPUT && known) versions.set(known.id, fields.getTextInputValue(id));
  }
  return { caption: fields.getTextInputValue(CAPTION_INPUT), versions };
}

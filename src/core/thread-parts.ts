/**
 * Threads in a caption (contract.md §4 "Threads and versions"): a line or a word that is exactly
 * `---` splits the text into parts. A platform that posts threads (X) publishes each part as its
 * own post; every other platform gets the parts joined with a blank line.
 *
 * Pure: plain strings in, plain strings out.
 *
 * Decisions:
 * - A separator is `---` with whitespace (or the start or end of the text) on both sides, so a
 *   line `---`, a line `  ---  ` and the word in `intro --- more` split; `a---b`, `----` and
 *   `---!` do not.
 * - Each part is trimmed: the whitespace around a separator belongs to neither side (a post
 *   never starts with the line break that followed `---`).
 * - Empty parts are dropped, not refused: a stray `---` at the start or end, or two in a row,
 *   is a slip that a person would not want posted as an empty post, and nothing is lost by
 *   leaving it out. A text that is nothing but separators has one empty part.
 * - Text without a separator is one part, exactly as given (not even trimmed), so captions
 *   without `---` publish as they always did.
 */

/** The separator, as a line or a word. */
export const THREAD_SEPARATOR = '---';

/** What other platforms put between the parts. */
export const PART_JOINER = '\n\n';

/** `---` with whitespace or the text's edge on both sides. */
const SEPARATOR = /(?<=^|\s)---(?=\s|$)/u;
const SEPARATORS = /(?<=^|\s)---(?=\s|$)/gu;

/** Whether the text holds a thread separator. */
export function hasThreadSeparator(text: string): boolean {
  return SEPARATOR.test(text);
}

/**
 * The parts of a thread, in order: one part (the text unchanged) when there is no separator;
 * otherwise the trimmed, non-empty texts between separators (at least one, possibly empty).
 */
export function threadParts(text: string): string[] {
  if (!hasThreadSeparator(text)) return [text];
  const parts = text
    .split(SEPARATORS)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return parts.length > 0 ? parts : [''];
}

/** The parts as one text, for a platform that does not post threads: a blank line between parts. */
export function joinThreadParts(parts: readonly string[]): string {
  return parts.join(PART_JOINER);
}

/** The text as a platform without threads publishes it: unchanged without a separator, else the parts joined. */
export function withoutThreadSeparators(text: string): string {
  return hasThreadSeparator(text) ? joinThreadParts(threadParts(text)) : text;
}

/**
 * A draft as a publisher is handed it: one that posts threads gets the text with its separators
 * (it splits the parts itself), any other gets the parts joined with a blank line.
 */
export function draftForPublisher<Draft extends { caption: string }>(
  publisher: { postsThreads?: boolean | undefined },
  draft: Draft,
): Draft {
  if (publisher.postsThreads) return draft;
  const caption = withoutThreadSeparators(draft.caption);
  return caption === draft.caption ? draft : { ...draft, caption };
}

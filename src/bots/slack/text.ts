import type { RichText } from '../../core/ports/rich-text.js';
import { renderRich } from '../../core/ports/rich-text.js';

/**
 * Slack's text formats, both ways. Slack escapes `&`, `<` and `>` in what people type and
 * wraps mentions, channels and links in `<…>`; we turn that into plain text for the core
 * (captions are published as typed), keeping user mentions `<@U…>` for the grammar. Going
 * out, the core's text segments are escaped again and its mention segments written as
 * entities: user text never becomes a ping, a broadcast (`<!channel>`) or a disguised link.
 */

const ENTITY = /<([^<>]*)>/g;

function unescapeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What a person typed, from Slack's wire format (slash command text, message text). */
export function fromSlackText(text: string): string {
  const plain = text.replace(ENTITY, (whole, inner: string) => {
    const [target = '', label] = inner.split('|', 2) as [string, string | undefined];
    if (target.startsWith('@')) return whole; // a user mention: the grammar reads `<@U…>`
    if (target.startsWith('#')) return label ? `#${label}` : `#${target.slice(1)}`;
    if (target.startsWith('!')) {
      if (label) return label;
      const special = target.slice(1);
      return ['here', 'channel', 'everyone'].includes(special) ? `@${special}` : '';
    }
    if (label === undefined) return target.replace(/^mailto:/, '');
    // Slack auto-links what looks like a link ("example.com" → <http://example.com|example.com>): keep what was typed.
    const bare = target.replace(/^(https?:\/\/|mailto:)/, '');
    return bare === label || bare.startsWith(label) ? label : `${label} (${target})`;
  });
  return unescapeEntities(plain);
}

function escapePlain(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The shape of a Slack user or channel id. */
const SLACK_ID = /^[A-Za-z0-9_]+$/;

/**
 * IQSP's text as Slack mrkdwn: every text segment escaped (`&`, `<`, `>`), so what a person
 * typed — `<@U123>`, `<!channel>`, `<!subteam^…>`, `<https://…|label>` — is shown literally,
 * never as a ping, a broadcast or a disguised link; only the mention and channel segments the
 * core puts in become `<@U…>` and `<#C…>`.
 */
export function toMrkdwn(text: RichText): string {
  return renderRich(text, {
    text: escapePlain,
    // Ids come from Slack; one of another shape is shown as text rather than trusted as markup.
    mention: (user) => (SLACK_ID.test(user) ? `<@${user}>` : escapePlain(`@${user}`)),
    channel: (channel) => (SLACK_ID.test(channel) ? `<#${channel}>` : escapePlain(`#${channel}`)),
    link: (url, label) => `<${url.replace(/[<>|]/g, encodeURIComponent)}${label ? `|${escapePlain(label).replace(/\|/g, '¦')}` : ''}>`,
    // Slack shows <!date^…> in each reader's own zone; the text after | is for clients that cannot.
    time: (at, fallback) =>
      `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${escapePlain(fallback).replace(/\|/g, '¦')}>`,
  });
}

/** Cuts `text` to at most `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Splits text into pieces of at most `max` characters, at line breaks where possible. */
export function chunks(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = rest.lastIndexOf('\n', max);
    const at = cut > max / 2 ? cut : max;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n/, '');
  }
  if (rest !== '' || out.length === 0) out.push(rest);
  return out;
}

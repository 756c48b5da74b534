/**
 * Slack's text formats, both ways. Slack escapes `&`, `<` and `>` in what people type and
 * wraps mentions, channels and links in `<…>`; we turn that into plain text for the core
 * (captions are published as typed), keeping user mentions `<@U…>` for the grammar. Going
 * out, the core's text is escaped again, except the mentions IQSP writes: user text never
 * becomes a broadcast (`<!channel>`), a group ping or a disguised link.
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

/**
 * The Slack markup IQSP itself writes: a user mention, `<@U123>` (the grammar also keeps a
 * typed `<@U123|name>`, shown as the mention), and a channel, `<#C123>` (the post modal names
 * the channel a post waits in). Everything else — `<!channel>`, `<!subteam^…>`,
 * `<https://…|label>` — is user text as far as IQSP knows (the core writes links as bare
 * URLs) and is shown literally. Linear: each part is one character class stopping at the next
 * `<`, `>` or `|`, so a failed match backtracks over at most one id.
 */
const KEPT_ENTITY = /<(?:@([A-Z0-9]+)(?:\|[^<>|]*)?|#([A-Z0-9]+))>/g;

function escapePlain(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** IQSP's text as Slack mrkdwn: `&`, `<`, `>` escaped everywhere except in the mentions it writes. */
export function toMrkdwn(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(KEPT_ENTITY)) {
    out += `${escapePlain(text.slice(last, match.index))}${match[1] !== undefined ? `<@${match[1]}>` : `<#${match[2]}>`}`;
    last = match.index + match[0].length;
  }
  return out + escapePlain(text.slice(last));
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

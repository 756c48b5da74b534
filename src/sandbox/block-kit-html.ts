/**
 * A small Block Kit → HTML renderer for the blocks a Home view uses: header, section (mrkdwn or
 * plain text, fields), context and divider; any other block is left out. Slack's markup inside
 * mrkdwn is read as Slack reads it: `<!date^…|fallback>` shows its fallback (the sandbox has no
 * reader's zone to show), `<@U1>` as @U1, `<#C1>` as #C1, `<url|label>` as a link, `&lt;` `&gt;`
 * `&amp;` as the characters; *bold*, _italic_, ~strike~, `code` and `>` quotes as such. Everything from the
 * blocks is escaped: a caption can never become markup.
 */
import { escapeHtml } from '../http/pages.js';

export interface TextObject {
  type: string;
  text: string;
}

/** A block as Block Kit writes it, loosely: whatever a Home view's blocks are, this reads them. */
export interface HomeBlock {
  type: string;
  /** A text object; a string for block types this renderer leaves out (Block Kit's `markdown`). */
  text?: TextObject | string | undefined;
  fields?: readonly TextObject[] | undefined;
  elements?: ReadonlyArray<{ type: string; text?: unknown }> | undefined;
}

/** Slack's three escapes, undone (mrkdwn text arrives escaped). */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What one `<…>` of Slack markup shows, as HTML. */
function markupHtml(inner: string): string {
  const [target = '', ...rest] = inner.split('|');
  const label = rest.length > 0 ? unescapeSlack(rest.join('|')) : undefined;
  if (target.startsWith('!date^')) return escapeHtml(label ?? '');
  if (target.startsWith('!')) return escapeHtml(label ?? `@${target.slice(1)}`);
  if (target.startsWith('@')) return escapeHtml(label ? `@${label}` : target);
  if (target.startsWith('#')) return escapeHtml(label ? `#${label}` : target);
  const url = unescapeSlack(target);
  if (!/^(https?:|mailto:)/i.test(url)) return escapeHtml(label ?? url);
  return `<a href="${escapeHtml(url)}" rel="noopener">${escapeHtml(label ?? url)}</a>`;
}

/** One line of mrkdwn as HTML: markup first (kept aside so formatting never reaches into it), then *bold* and friends. */
function lineHtml(line: string): string {
  const kept: string[] = [];
  const hold = (html: string) => `\uE000${kept.push(html) - 1}\uE000`;
  let html = line
    .replace(/\uE000/g, '')
    .split(/(<[^<>]*>)/)
    .map((part) => (/^<[^<>]*>$/.test(part) ? hold(markupHtml(part.slice(1, -1))) : escapeHtml(unescapeSlack(part))))
    .join('');
  html = html
    .replace(/`([^`]+)`/g, (_m, code: string) => hold(`<code>${code}</code>`))
    .replace(/(^|[\s(])\*([^*]+)\*(?=$|[\s.,;:!?)])/g, '$1<strong>$2</strong>')
    .replace(/(^|[\s(])_([^_]+)_(?=$|[\s.,;:!?)])/g, '$1<em>$2</em>')
    .replace(/(^|[\s(])~([^~]+)~(?=$|[\s.,;:!?)])/g, '$1<del>$2</del>');
  // Held pieces may hold others (code around a date): resolve until none is left.
  while (/\uE000\d+\uE000/.test(html)) html = html.replace(/\uE000(\d+)\uE000/g, (_m, i: string) => kept[Number(i)] ?? '');
  return html;
}

/** Slack mrkdwn as HTML, line by line: a line starting with `>` (`&gt;` escaped) is a quote. */
export function mrkdwnHtml(text: string): string {
  let html = '';
  let open = false; // a line of text is open: the next one starts after a break
  for (const line of text.split('\n')) {
    const quoted = /^(&gt;|>)/.exec(line);
    if (quoted) {
      html += `<blockquote>${lineHtml(line.slice(quoted[0].length))}</blockquote>`;
      open = false;
    } else {
      html += `${open ? '<br>' : ''}${lineHtml(line)}`;
      open = true;
    }
  }
  return html;
}

function textHtml(text: TextObject | string | undefined): string {
  if (text === undefined || typeof text === 'string') return '';
  return text.type === 'mrkdwn' ? mrkdwnHtml(text.text) : escapeHtml(text.text).replace(/\n/g, '<br>');
}

function blockHtml(block: HomeBlock): string {
  switch (block.type) {
    case 'header':
      return `<h2 class="header">${escapeHtml(typeof block.text === 'object' ? block.text.text : '')}</h2>`;
    case 'divider':
      return '<hr class="divider">';
    case 'section': {
      const fields = block.fields?.length
        ? `<div class="fields">${block.fields.map((f) => `<div>${textHtml(f)}</div>`).join('')}</div>`
        : '';
      return `<div class="section">${block.text ? `<div>${textHtml(block.text)}</div>` : ''}${fields}</div>`;
    }
    case 'context': {
      const parts = (block.elements ?? []).flatMap((e) =>
        typeof e.text === 'string' && (e.type === 'mrkdwn' || e.type === 'plain_text')
          ? [`<span>${textHtml({ type: e.type, text: e.text })}</span>`]
          : [],
      );
      return `<div class="context">${parts.join('')}</div>`;
    }
    default:
      return '';
  }
}

/** The blocks as HTML, one element per block, in order. */
export function blocksHtml(blocks: readonly HomeBlock[]): string {
  return blocks.map(blockHtml).join('\n');
}

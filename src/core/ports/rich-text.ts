/**
 * Text the core says in chat, as structured segments: plain text, a person, a channel, a link, a time.
 * The core never writes a chat's markup (`<@U123>`, `<#C123>`); each surface renders the
 * segments in its own way and escapes every text segment, so markup a person typed (a caption
 * with `<@U123>` or `<!channel>`) is shown as written and never pings.
 */

import { formatInZone } from '../schedule/zones.js';

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; user: string }
  | { kind: 'channel'; channel: string }
  | { kind: 'link'; url: string; label?: string }
  /** An instant, shown in each reader's own zone where the chat can (Slack `<!date^…>`, Discord `<t:…>`), else in `zone`. */
  | { kind: 'time'; at: string; zone: string };

/** A message's text: a plain string is one text segment (never markup). */
export type RichText = string | readonly Segment[];

/** A person named in a message, by their id in the chat. */
export function mention(userExternalId: string): Segment {
  return { kind: 'mention', user: userExternalId };
}

/** A channel named in a message, by its id in the chat. */
export function channelRef(channelId: string): Segment {
  return { kind: 'channel', channel: channelId };
}

/** An instant named in a message; `zone` is the one it is written in where the chat cannot show each reader theirs. */
export function timeAt(at: Date, zone: string): Segment {
  return { kind: 'time', at: at.toISOString(), zone };
}

type Part = RichText | Segment | number;

function isSegment(part: Part): part is Segment {
  return typeof part === 'object' && !Array.isArray(part) && 'kind' in part;
}

/** The segments of a text, adjacent text segments joined and empty ones left out. */
export function segmentsOf(...parts: readonly Part[]): Segment[] {
  const out: Segment[] = [];
  const push = (segment: Segment): void => {
    if (segment.kind !== 'text') {
      out.push(segment);
      return;
    }
    if (segment.text === '') return;
    const last = out.at(-1);
    if (last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + segment.text };
    else out.push(segment);
  };
  for (const part of parts) {
    if (typeof part === 'string' || typeof part === 'number') push({ kind: 'text', text: String(part) });
    else if (isSegment(part)) push(part);
    else for (const segment of part) push(segment);
  }
  return out;
}

/**
 * Rich text written as a template: `` rich`Approved by ${mention(id)}` ``. Interpolated
 * strings become text segments (whatever they hold), segments and rich texts stay as they are.
 */
export function rich(strings: TemplateStringsArray, ...values: readonly Part[]): Segment[] {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    parts.push(s);
    if (i < values.length) parts.push(values[i]!);
  });
  return segmentsOf(...parts);
}

/** Rich texts joined with `separator` (as `Array.join`). */
export function joinRich(texts: readonly Part[], separator: string): Segment[] {
  return segmentsOf(...texts.flatMap((t, i) => (i === 0 ? [t] : [separator, t])));
}

export interface SegmentRenderer {
  text: (text: string) => string;
  mention: (user: string) => string;
  channel: (channel: string) => string;
  link: (url: string, label: string | undefined) => string;
  /** `at` as the chat's own time markup, or `fallback` (`Mon 7 Dec 09:30 CET`) where it has none. */
  time: (at: Date, fallback: string) => string;
}

/** Rich text as a string, each segment rendered by `renderer` (a surface's markup). */
export function renderRich(text: RichText, renderer: SegmentRenderer): string {
  return segmentsOf(text)
    .map((s) => {
      switch (s.kind) {
        case 'text':
          return renderer.text(s.text);
        case 'mention':
          return renderer.mention(s.user);
        case 'channel':
          return renderer.channel(s.channel);
        case 'link':
          return renderer.link(s.url, s.label);
        case 'time':
          return renderer.time(new Date(s.at), formatInZone(new Date(s.at), s.zone));
      }
    })
    .join('');
}

/** Rich text for logs and exports: people as `@id`, channels as `#id`, links as `label (url)`. */
export function plainText(text: RichText): string {
  return renderRich(text, {
    text: (t) => t,
    mention: (user) => `@${user}`,
    channel: (channel) => `#${channel}`,
    link: (url, label) => (label ? `${label} (${url})` : url),
    time: (_at, fallback) => fallback,
  });
}

/** Rich text read back from JSON (a stored notice): a string as written, else the valid segments. */
export function richTextFromJson(value: unknown): RichText {
  if (!Array.isArray(value)) return String(value);
  return value.flatMap((s: unknown): Segment[] => {
    if (typeof s !== 'object' || s === null) return [];
    const v = s as Record<string, unknown>;
    if (v.kind === 'text' && typeof v.text === 'string') return [{ kind: 'text', text: v.text }];
    if (v.kind === 'mention' && typeof v.user === 'string') return [{ kind: 'mention', user: v.user }];
    if (v.kind === 'channel' && typeof v.channel === 'string') return [{ kind: 'channel', channel: v.channel }];
    if (v.kind === 'link' && typeof v.url === 'string')
      return [{ kind: 'link', url: v.url, ...(typeof v.label === 'string' ? { label: v.label } : {}) }];
    if (v.kind === 'time' && typeof v.at === 'string' && typeof v.zone === 'string' && !Number.isNaN(Date.parse(v.at)))
      return [{ kind: 'time', at: v.at, zone: v.zone }];
    return [];
  });
}

/**
 * Rich text as the core wrote it before segments: people as `<@id>`, channels as `<#id>`, links
 * as bare URLs. Stored beside the segments in a queued notice, so an instance of the previous
 * version (a rolling upgrade) still says it as it did.
 */
export function legacyMarkup(text: RichText): string {
  return renderRich(text, {
    text: (t) => t,
    mention: (user) => `<@${user}>`,
    channel: (channel) => `<#${channel}>`,
    link: (url) => url,
    time: (_at, fallback) => fallback,
  });
}

/**
 * A notice text the previous version stored (`legacyMarkup`'s form): its `<@id>` and `<#id>`
 * are the people and channels it named, read back as segments, so a notice queued before an
 * upgrade still names (and pings) them.
 */
export function richTextFromLegacy(text: string): Segment[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(/<([@#])([A-Za-z0-9_]+)>/g)) {
    parts.push(text.slice(last, match.index));
    parts.push(match[1] === '@' ? mention(match[2]!) : channelRef(match[2]!));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return segmentsOf(...parts);
}

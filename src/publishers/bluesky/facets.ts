/**
 * Rich-text facets (more-platforms.md §4.7): Bluesky links nothing by itself, so links and
 * mentions are marked with their UTF-8 byte ranges (start inclusive, end exclusive), never
 * string indices. Mentions name a DID: each handle is resolved, and one that does not resolve
 * stays plain text. Detection follows the app's own rules (RichText.detectFacets).
 */

export interface Facet {
  index: { byteStart: number; byteEnd: number };
  features: Array<{ $type: 'app.bsky.richtext.facet#link'; uri: string } | { $type: 'app.bsky.richtext.facet#mention'; did: string }>;
}

export interface FoundMention {
  handle: string;
  byteStart: number;
  byteEnd: number;
}

const MENTION = /(^|\s|\()(@)([a-zA-Z0-9.-]+)(\b)/g;
const URL_PATTERN = /(^|\s|\()((https?:\/\/[\S]+)|((?<domain>[a-z][a-z0-9]*(\.[a-z0-9]+)+)[\S]*))/gim;
const HANDLE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

function byteOffset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index), 'utf8');
}

export function findMentions(text: string): FoundMention[] {
  const found: FoundMention[] = [];
  for (const match of text.matchAll(MENTION)) {
    const handle = (match[3] ?? '').replace(/[.]+$/, '');
    if (!HANDLE.test(handle)) continue;
    const start = (match.index ?? 0) + (match[1] ?? '').length;
    const end = start + 1 + handle.length;
    found.push({ handle: handle.toLowerCase(), byteStart: byteOffset(text, start), byteEnd: byteOffset(text, end) });
  }
  return found;
}

export function findLinks(text: string): Array<{ uri: string; byteStart: number; byteEnd: number }> {
  const found: Array<{ uri: string; byteStart: number; byteEnd: number }> = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    let uri = match[2] ?? '';
    if (!uri.startsWith('http')) {
      const domain = match.groups?.domain ?? '';
      // Bare domains link only with a real-looking top-level domain.
      if (!/\.[a-z]{2,}$/i.test(domain)) continue;
      uri = `https://${uri}`;
    }
    const start = (match.index ?? 0) + (match[1] ?? '').length;
    let shown = match[2] ?? '';
    // Trailing punctuation and an unbalanced closing parenthesis are not part of the link.
    if (/[.,;:!?]$/.test(shown)) {
      shown = shown.replace(/[.,;:!?]+$/, '');
      uri = uri.replace(/[.,;:!?]+$/, '');
    }
    if (shown.endsWith(')') && !shown.includes('(')) {
      shown = shown.slice(0, -1);
      uri = uri.slice(0, -1);
    }
    const end = start + shown.length;
    found.push({ uri, byteStart: byteOffset(text, start), byteEnd: byteOffset(text, end) });
  }
  return found;
}

/** The facets of `text`: links, and the mentions `resolve` finds a DID for. */
export async function detectFacets(text: string, resolve: (handle: string) => Promise<string | undefined>): Promise<Facet[]> {
  const facets: Facet[] = [];
  for (const link of findLinks(text))
    facets.push({
      index: { byteStart: link.byteStart, byteEnd: link.byteEnd },
      features: [{ $type: 'app.bsky.richtext.facet#link', uri: link.uri }],
    });
  for (const mention of findMentions(text)) {
    const did = await resolve(mention.handle);
    if (did)
      facets.push({
        index: { byteStart: mention.byteStart, byteEnd: mention.byteEnd },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did }],
      });
  }
  // No overlaps: a mention inside a link (an e-mail-like URL) loses to the link.
  facets.sort((a, b) => a.index.byteStart - b.index.byteStart);
  return facets.filter((facet, i) => i === 0 || facet.index.byteStart >= (facets[i - 1]?.index.byteEnd ?? 0));
}

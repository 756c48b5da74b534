/** Facets mark links and mentions by UTF-8 byte ranges; an unresolvable mention stays plain text. */
import { describe, expect, it } from 'vitest';
import { detectFacets } from '../../../src/publishers/bluesky/facets.js';
import { nextTid, TID_PATTERN } from '../../../src/publishers/bluesky/tid.js';

const slice = (text: string, start: number, end: number): string => Buffer.from(text, 'utf8').subarray(start, end).toString('utf8');

describe('Bluesky facets', () => {
  it('uses byte offsets after multi-byte characters, and resolves mentions', async () => {
    const text = '日本語 ✨ @alice.bsky.social see https://example.com/path, and example.org.';
    const facets = await detectFacets(text, (handle) => Promise.resolve(handle === 'alice.bsky.social' ? 'did:plc:alice' : undefined));
    expect(facets.map((f) => [slice(text, f.index.byteStart, f.index.byteEnd), f.features[0]])).toEqual([
      ['@alice.bsky.social', { $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:alice' }],
      ['https://example.com/path', { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/path' }],
      ['example.org', { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.org' }],
    ]);
  });

  it('leaves a mention that does not resolve as plain text', async () => {
    expect(await detectFacets('hi @ghost.example.com', () => Promise.resolve(undefined))).toEqual([]);
  });
});

describe('record keys', () => {
  it('are TIDs, strictly increasing', () => {
    const keys = Array.from({ length: 50 }, () => nextTid());
    for (const key of keys) expect(key).toMatch(TID_PATTERN);
    expect([...keys].sort()).toEqual(keys);
    expect(new Set(keys).size).toBe(50);
  });
});

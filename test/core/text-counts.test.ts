/**
 * The live counts under a form's caption (issue 16), for a platform that counts several fields of
 * one post (YouTube: the title in characters, the description in bytes) beside one that posts
 * threads (X: one count per part).
 */
import { describe, expect, it } from 'vitest';
import { createGrammar } from '../../src/core/grammar.js';
import { Inbound, type InboundDependencies } from '../../src/core/inbound.js';
import { platformDescriptors, type Publishers } from '../../src/publishers/registry.js';
import { createXPublisher } from '../../src/publishers/x/index.js';
import { createYoutubePublisher } from '../../src/publishers/youtube/index.js';

const publishers: Publishers = new Map([
  [
    'x',
    createXPublisher({ clientId: 'x', clientSecret: 's', apiUrl: 'https://api.x.com', authorizeUrl: 'https://x.com/i/oauth2/authorize' }),
  ],
  [
    'youtube',
    createYoutubePublisher({
      clientId: 'g',
      clientSecret: 's',
      apiUrl: 'https://www.googleapis.com',
      authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
    }),
  ],
]);
// textCounts reads only the publishers; the rest of the facade is not needed here.
const inbound = new Inbound({ grammar: createGrammar(platformDescriptors()), publishers } as unknown as InboundDependencies);

describe('text counts', () => {
  it('lists the fields of one YouTube post side by side, and an X thread as its parts', () => {
    expect(inbound.textCounts(['youtube', 'x'], 'Launch day 🚀\nCafé\n---\nPart two')).toEqual([
      { platform: 'youtube', line: 'YouTube: 12 of 100 title characters, 15 of 5,000 description bytes', over: false },
      { platform: 'x', line: 'X: a thread of 2 posts: 18, 8 of 280 weighted characters', over: false },
    ]);
    expect(inbound.textCounts(['youtube'], 'x'.repeat(101))[0]).toEqual({
      platform: 'youtube',
      line: 'YouTube: 101 of 100 title characters, 0 of 5,000 description bytes',
      over: true,
    });
  });
});

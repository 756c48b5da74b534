/**
 * The Bluesky publisher against its simulator with the real OAuth library: connect (PAR, DPoP
 * nonces, PKCE, the issuer and DID checks), refresh with rotation, publish, revoke.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { publishRequest } from '../../helpers/publish-request.js';
import { useMediaDir } from '../../helpers/media.js';
import { blueskyWorld, connect, type BlueskyWorld } from './bluesky-world.js';

describe('Bluesky against its simulator', () => {
  const dir = useMediaDir('iqsp-bsky-');
  let world: BlueskyWorld | undefined;
  afterEach(async () => world?.close());

  for (const publicUrl of ['http://127.0.0.1:3999', 'https://iqsp.example']) {
    it(`connects and publishes a post (${publicUrl.startsWith('https') ? 'confidential client' : 'loopback client'})`, async () => {
      world = await blueskyWorld({ publicUrl });
      const account = await connect(world);
      expect(account.platformAccountId).toBe('did:plc:iqspalicesim2bluesky4abc');
      expect(account.handle).toBe('alice-iqsp.bsky.social');
      const result = await world.publisher.publish(
        publishRequest({ account, tokens: account.tokens, draft: { caption: 'Hello https://example.com' }, media: dir.media }),
      );
      expect(result.kind).toBe('published');
      expect(world.sim.published).toHaveLength(1);
    });
  }
});

/**
 * A Bluesky publisher wired to a started simulator, for tests that drive the real OAuth library
 * end to end (loopback only): connect through the simulated consent, then publish.
 */
import { createBlueskyPublisher } from '../../../src/publishers/bluesky/index.js';
import type { GrantedAccount, Publisher } from '../../../src/publishers/publisher.js';
import { BlueskySimulator, type BlueskySimulatorOptions } from '../../../src/simulators/bluesky.js';

export const VAULT_SEED = Buffer.alloc(32, 9);

export interface BlueskyWorld {
  sim: BlueskySimulator;
  publisher: Publisher;
  close(): Promise<void>;
}

/** `publicUrl` https makes IQSP a confidential client: the simulator then reads its documents from the publisher. */
export async function blueskyWorld(
  options: { publicUrl?: string; sim?: BlueskySimulatorOptions; pollIntervalMs?: number } = {},
): Promise<BlueskyWorld> {
  let publisher: Publisher | undefined;
  const publicUrl = options.publicUrl ?? 'http://127.0.0.1:3999';
  const sim = new BlueskySimulator({
    fetchDocument: async (url) => {
      const docs = publisher?.documents?.() ?? {};
      const name = url.slice(`${publicUrl}/oauth/bluesky/`.length);
      if (!url.startsWith(`${publicUrl}/oauth/bluesky/`) || !(name in docs)) throw new Error(`${url} answered 404`);
      return docs[name];
    },
    ...options.sim,
  });
  await sim.start();
  publisher = createBlueskyPublisher(
    { plcUrl: sim.url, handleResolverUrl: sim.url, videoUrl: sim.url, pollIntervalMs: options.pollIntervalMs ?? 1, maxWaitMs: 5_000 },
    { publicUrl, subkey: (purpose) => Buffer.from(`${purpose}:${VAULT_SEED.toString('hex')}`.padEnd(32, '#').slice(0, 32)) },
  );
  return { sim, publisher, close: () => sim.close() };
}

/** Connects the simulator's account `did` (its first by default) through the consent page. */
export async function connect(world: BlueskyWorld, did?: string): Promise<GrantedAccount> {
  const started = await world.publisher.startConsent!({ state: 'iqsp-state', redirectUri: 'unused' });
  const callback = new URL(await world.sim.approveConsent(started.url, did ? { account: did } : {}));
  const accounts = await world.publisher.finishConnect({
    code: callback.searchParams.get('code') ?? '',
    redirectUri: 'unused',
    query: Object.fromEntries(callback.searchParams),
    roundTripSecret: started.secret,
  });
  const account = accounts[0];
  if (!account) throw new Error('no account granted');
  return account;
}

/**
 * ONE suite for every publisher: the exact outgoing requests (through nock interceptors that
 * match URL, method, headers and body) and the mapped result, for each capability of the port.
 */
import { describe, expect, it } from 'vitest';
import { SecretStore } from '../../src/vault/secret-store.js';
import { TokenStore } from '../../src/vault/token-store.js';
import { Vault } from '../../src/vault/vault.js';
import { testDatabase } from '../helpers/db.js';
import { seedAccount } from '../helpers/db.js';
import { useMediaDir } from '../helpers/media.js';
import { useNock } from '../helpers/nock.js';
import type { ContractCase, ContractContext, PublisherContract } from './contract.js';

/**
 * Registers the contract suite for one publisher. Each platform's folder has a
 * `contract.test.ts` that calls this with its fixture, so every platform runs the same tests.
 */
export function describePublisherContract(contract: PublisherContract): void {
  let ctx: ContractContext;

  async function run<R>(testCase: ContractCase<R>): Promise<void> {
    await testCase.arrange(ctx);
    const result = await testCase.act(contract.create(), ctx);
    await testCase.check(result, ctx);
  }

  describe(`publisher contract: ${contract.platform}`, () => {
    ctx = useMediaDir('iqsp-contract-');
    useNock();

    const consent = contract.consent;
    if ('started' in consent) it('starts the consent with its own documented requests', () => run(consent.started));
    else
      it('builds the consent URL with exactly the documented parameters', () => {
        const publisher = contract.create();
        const url = new URL(
          publisher.consentUrl({
            state: 'state-123',
            redirectUri: consent.redirectUri,
            codeChallenge: publisher.usesPkce ? 'challenge-abc' : undefined,
          }),
        );
        expect(`${url.origin}${url.pathname}`).toBe(consent.expectedUrl);
        expect(Object.fromEntries(url.searchParams)).toEqual(consent.expectedParams);
      });

    it('exchanges the code and discovers the granted accounts with their profile', () => run(contract.connect));
    it('revokes at the platform', () => run(contract.revoke));

    if (contract.refresh) {
      const refresh = contract.refresh;
      it(`refreshes once for two concurrent callers and stores ${refresh.rotates === false ? 'the new access token, keeping the refresh token' : 'the rotated pair'}`, async () => {
        const t = await testDatabase();
        try {
          const { accountId } = await seedAccount(t.db, contract.platform);
          const vault = new Vault(Buffer.alloc(32, 7));
          const publisher = contract.create();
          const stores = [0, 1].map(() => new TokenStore(t.db, new SecretStore(t.db, vault), () => publisher, { pollMs: 5 }));
          await stores[0]!.save(accountId, { ...refresh.tokens, expiresAt: new Date(Date.now() + 30_000) });
          refresh.arrange();
          const [a, b] = await Promise.all([stores[0]!.validTokens(accountId), stores[1]!.validTokens(accountId)]);
          expect(a.accessToken).toBe(b.accessToken);
          refresh.check(a);
          const stored = await stores[0]!.load(accountId);
          expect(stored.refreshToken).toBe(a.refreshToken);
          if (refresh.rotates === false) expect(stored.refreshToken).toBe(refresh.tokens.refreshToken);
          else expect(stored.refreshToken).not.toBe(refresh.tokens.refreshToken);
        } finally {
          await t.close();
        }
      });
    } else {
      it('has no refresh (tokens do not expire or need a new consent)', () => {
        expect(contract.create().canRefresh).toBe(false);
      });
    }

    for (const [kind, testCase] of Object.entries(contract.publish)) {
      if (testCase) it(`publishes: ${kind}`, () => run(testCase));
    }
    for (const [failureClass, testCase] of Object.entries(contract.errors)) {
      it(`maps an error to the class "${failureClass}"`, () => run(testCase));
    }
  });
}

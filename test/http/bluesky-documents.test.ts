/**
 * The AT Protocol client documents as the running service serves them (contract §3): with an
 * https PUBLIC_URL, GET /oauth/bluesky/client-metadata.json and /oauth/bluesky/jwks.json, and the
 * simulated authorization server reads exactly these (through the service) to check IQSP's
 * client assertions when a person connects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlueskySimulator } from '../../src/simulators/bluesky.js';
import { Browser } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const PUBLIC_URL = 'https://iqsp.example';

describe('Bluesky client documents', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: { PUBLIC_URL },
      sims: {
        // The authorization server fetches the client's documents from IQSP itself (the test reaches it over loopback http).
        bluesky: {
          fetchDocument: async (url: string) => {
            const response = await fetch(url.replace(PUBLIC_URL, h.base), { redirect: 'error' });
            if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
            if (response.headers.get('content-type')?.split(';')[0] !== 'application/json') throw new Error(`${url} is not JSON`);
            return response.json();
          },
        },
      } as never, // SimulatorsOptions names only the first simulators' keys; startSimulators hands each its own by key.
    });
  }, 60_000);
  afterAll(() => h?.close());

  it('serves the client metadata and the public JWKS as JSON', async () => {
    const metadata = await fetch(`${h.base}/oauth/bluesky/client-metadata.json`, { redirect: 'manual' });
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await metadata.json()).toMatchObject({
      client_id: `${PUBLIC_URL}/oauth/bluesky/client-metadata.json`,
      redirect_uris: [`${PUBLIC_URL}/oauth/bluesky/callback`],
      jwks_uri: `${PUBLIC_URL}/oauth/bluesky/jwks.json`,
      token_endpoint_auth_method: 'private_key_jwt',
      dpop_bound_access_tokens: true,
    });
    const jwks = (await (await fetch(`${h.base}/oauth/bluesky/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect((await fetch(`${h.base}/oauth/bluesky/other.json`)).status).toBe(404);
  });

  it('the authorization server accepts the assertions signed with the served key: a confidential client connects', async () => {
    const reply = await h.run('U_ADA', 'connect bluesky');
    const link = /(https:\/\/\S+\/connect\/\S+)/.exec(reply.message.text)?.[1];
    expect(link).toBeDefined();
    const browser = new Browser();
    const redirect = await browser.fetch(link!.replace(PUBLIC_URL, h.base), { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const callback = await h.sims.followConsent(redirect.headers.get('location')!);
    const sim = h.sims.sim<BlueskySimulator>('bluesky');
    // The code exchange happens at the callback; the PAR already carried a verified assertion.
    expect(sim.requests.filter((r) => r.path === '/oauth/par').map((r) => r.status)).toEqual([400, 201]);
    const page = await browser.fetch(callback.replace(PUBLIC_URL, h.base));
    expect(page.status, await page.clone().text()).toBe(200);
    expect(await page.text()).toContain('Connected Bluesky @alice-iqsp.bsky.social');
    expect(sim.auth.sessions.at(-1)?.clientId).toBe(`${PUBLIC_URL}/oauth/bluesky/client-metadata.json`);
  });
});

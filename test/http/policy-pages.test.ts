/**
 * Issue 20: /privacy and /terms describe this install as it is configured — each statement's key
 * fact is checked against the configuration it comes from — link from help, the connect pages and
 * the Slack manifest, and redirect to the operator's own when PRIVACY_POLICY_URL / TERMS_URL are set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackManifest } from '../../src/bots/slack/manifest.js';
import { privacyPolicy, type PolicyFacts } from '../../src/http/policy-pages.js';
import { PLATFORM_MODULES, publishesToList } from '../../src/publishers/registry.js';
import { Browser } from '../helpers/browser.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let redirecting: Harness;

beforeAll(async () => {
  [h, redirecting] = await Promise.all([
    startHarness({
      env: {
        OPERATOR_NAME: 'Acme Social Ops',
        OPERATOR_CONTACT: 'privacy@acme.example',
        MEDIA_TTL_HOURS: '36',
        SCHEDULE_MAX_DAYS: '14',
        APPROVAL_TTL_HOURS: '48',
        WEBHOOK_URL: 'http://127.0.0.1:9/hook',
        WEBHOOK_SECRET: 'a-webhook-secret-long-enough',
      },
    }),
    startHarness({ env: { PRIVACY_POLICY_URL: 'https://acme.example/privacy', TERMS_URL: 'https://acme.example/terms' } }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([h?.close(), redirecting?.close()]);
});

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The page's text as a reader sees it: tags gone, entities decoded, white space collapsed. */
async function textOf(url: string): Promise<{ status: number; headers: Headers; text: string; html: string }> {
  const answer = await fetch(url, { redirect: 'manual' });
  const html = await answer.text();
  const text = html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
  return { status: answer.status, headers: answer.headers, text, html };
}

describe('/privacy', () => {
  it('names the operator and says every promise, each fact as configured', async () => {
    const page = await textOf(`${h.base}/privacy`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');

    const statements: Array<[string, RegExp]> = [
      ['the operator', /is run by Acme Social Ops/],
      ['the contact', /reach them at privacy@acme\.example/],
      // The harness configures every registered platform (its simulators' environment).
      ['the platforms configured', new RegExp(`Here it publishes to ${escaped(publishesToList())}\\.`)],
      ['OAuth only, no passwords', /OAuth sign-in page\. IQSP never asks for, sees or stores your password/],
      ['tokens encrypted', /encrypted with AES-256-CBC and authenticated with HMAC-SHA256/],
      ['what is stored', /Your chat identity .* The accounts you connect: .* Your posts: .* approvals .* An audit log/],
      ['unapproved requests expire (APPROVAL_TTL_HOURS)', /expires after 48 hours/],
      ['media retention (MEDIA_TTL_HOURS)', /never more than 36 hours/],
      ['scheduled media bound (SCHEDULE_MAX_DAYS)', /at most 36 hours after its time, which is at most 14 days ahead/],
      ['removed workspaces', /deleted 30 days later/],
      ['data only to chosen platforms and the chat', /only to the platforms and accounts you chose, and .* only to the chat it came from/],
      ['the webhook (WEBHOOK_URL set)', /The operator also receives each post’s outcomes at an address of their own \(never a token\)/],
      ['disconnect deletes tokens at once', /`disconnect` .* deletes its tokens at once/],
      ['data access', /`data` sends you, privately, one JSON file/],
      ['deletion on request', /`delete-my-data` deletes it all/],
      [
        "the platform's own removal",
        /Removing IQSP in your Facebook settings, or asking Facebook to delete your data, deletes the accounts/,
      ],
      ['transport (PUBLIC_URL is http here)', /answers over plain HTTP at 127\.0\.0\.1:\d+, which is only fit for trying IQSP/],
      ['age', /IQSP is not for people under 18\./],
      ['changes', /When it changes, the new text is published at this address with its date before it takes effect/],
    ];
    for (const [what, pattern] of statements) expect(page.text, what).toMatch(pattern);
    expect(page.html).toContain(`href="${h.base}/terms"`);
  });

  it('says HTTPS with an https PUBLIC_URL, and neither the webhook nor a platform deletion where there is none', () => {
    const facts: PolicyFacts = {
      publicUrl: 'https://iqsp.acme.example',
      operatorName: undefined,
      operatorContact: undefined,
      platforms: ['X'],
      allPlatforms: ['X'],
      mediaTtlHours: 24,
      scheduleMaxDays: 30,
      approvalTtlHours: 72,
      removedWorkspaceRetentionDays: 30,
      webhook: false,
      platformDeletion: [],
      privacyUrl: undefined,
      termsUrl: undefined,
    };
    const text = JSON.stringify(privacyPolicy(facts));
    expect(text).toContain('IQSP is served over HTTPS only (iqsp.acme.example)');
    expect(text).toContain('is run by the operator of iqsp.acme.example (who has not set OPERATOR_NAME)');
    expect(text).not.toContain('address of their own');
    expect(text).not.toContain('settings, or asking');
    expect(text).toContain('Here it publishes to X.');
  });
});

describe('/terms', () => {
  it('names the operator, the age limit and the user’s part, and links the privacy policy', async () => {
    const page = await textOf(`${h.base}/terms`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('is run by Acme Social Ops');
    expect(page.text).toContain('You must be 18 or older to use IQSP.');
    const names = PLATFORM_MODULES.map((m) => m.displayName);
    expect(page.text).toContain(
      `You follow the rules of each platform you publish to (${names.slice(0, -1).join(', ')} and ${names.at(-1)!})`,
    );
    expect(page.text).toContain(`as the privacy policy (${h.base}/privacy) describes`);
    expect(page.text).toContain('Questions, requests and complaints: privacy@acme.example.');
  });
});

describe('links to the policies', () => {
  it('help links them; so do the connect pages (their footer) and the Slack manifest', async () => {
    const help = await h.run('U_ADA', 'help');
    expect(help.message.text).toContain(`Privacy policy: ${h.base}/privacy · Terms of service: ${h.base}/terms`);

    const connected = await h.connect('x');
    expect(connected.status).toBe(200);
    expect(connected.html).toContain(
      `<footer><a href="${h.base}/privacy">Privacy policy</a> · <a href="${h.base}/terms">Terms of service</a></footer>`,
    );
    const badLink = await new Browser().fetch(`${h.base}/connect/not-a-real-link`);
    expect(badLink.status).toBe(400);
    expect(await badLink.text()).toContain(`<a href="${h.base}/privacy">Privacy policy</a>`);

    expect(slackManifest('https://iqsp.acme.example')).toContain(
      'Privacy policy: https://iqsp.acme.example/privacy Terms of service: https://iqsp.acme.example/terms',
    );
    expect(slackManifest('https://iqsp.acme.example', { privacy: 'https://acme.example/p', terms: 'https://acme.example/t' })).toContain(
      'Privacy policy: https://acme.example/p Terms of service: https://acme.example/t',
    );
  });

  it('with PRIVACY_POLICY_URL and TERMS_URL: the routes redirect there and help links those', async () => {
    const privacy = await fetch(`${redirecting.base}/privacy`, { redirect: 'manual' });
    expect(privacy.status).toBe(302);
    expect(privacy.headers.get('location')).toBe('https://acme.example/privacy');
    const terms = await fetch(`${redirecting.base}/terms`, { redirect: 'manual' });
    expect(terms.headers.get('location')).toBe('https://acme.example/terms');
    const help = await redirecting.run('U_ADA', 'help');
    expect(help.message.text).toContain('Privacy policy: https://acme.example/privacy · Terms of service: https://acme.example/terms');
  });
});

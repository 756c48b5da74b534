/**
 * X threads against the X simulator over loopback HTTP (issue 16): reply chains checked as X
 * checks them (the post replied to must exist, be visible and belong to the account), a fault on
 * the Nth tweet, and the X publisher posting a `---` caption as chained replies with one link,
 * resuming after the parts already live.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantedAccount, PublishRequest, PublishResult } from '../../src/publishers/publisher.js';
import { createXPublisher } from '../../src/publishers/x/index.js';
import { XSimulator } from '../../src/simulators/index.js';
import { useMediaDir } from '../helpers/media.js';
import { publishRequest as sharedPublishRequest } from '../helpers/publish-request.js';
import { pngFile } from '../publishers/x/x-fixtures.js';

const REDIRECT = 'https://iqsp.test/oauth/callback';
const dir = useMediaDir('iqsp-x-thread-');

let sim: XSimulator;
let x: ReturnType<typeof createXPublisher>;
const accounts: GrantedAccount[] = [];

async function connect(accountId: string): Promise<GrantedAccount> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const consent = x.consentUrl({ state: 's', redirectUri: REDIRECT, codeChallenge: challenge });
  const query = Object.fromEntries(new URL(await sim.approveConsent(consent, { account: accountId })).searchParams);
  const [granted] = await x.finishConnect({ code: query.code ?? '', redirectUri: REDIRECT, codeVerifier: verifier, query });
  return granted!;
}

beforeAll(async () => {
  sim = new XSimulator();
  await sim.start();
  x = createXPublisher({
    clientId: sim.options.clientId,
    clientSecret: sim.options.clientSecret,
    apiUrl: sim.url,
    authorizeUrl: sim.authorizeUrl,
    pollIntervalMs: 1,
  });
  accounts.push(await connect('1500000000000000001'), await connect('1500000000000000002'));
});
afterAll(() => sim?.close());

/** POST /2/tweets as the account, straight to the simulator. */
async function tweet(account: GrantedAccount, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const answer = await fetch(`${sim.url}/2/tweets`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${account.tokens.accessToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
}

const idOf = (answer: { json: Record<string, unknown> }) => (answer.json.data as { id: string }).id;

function request(account: GrantedAccount, caption: string, extra: Partial<PublishRequest> = {}): PublishRequest & { commits: number } {
  const { platformAccountId, handle, displayName } = account;
  const base = sharedPublishRequest({
    account: { platformAccountId, handle, displayName },
    tokens: account.tokens,
    draft: { caption },
    media: dir.media,
  });
  const req = {
    ...base,
    commits: 0,
    beforeCommit: () => {
      req.commits += 1;
      return Promise.resolve();
    },
    ...extra,
  };
  return req;
}

function published(result: PublishResult): { platformPostId: string; permalink: string } {
  if (result.kind !== 'published') throw new Error(`expected published, got ${JSON.stringify(result)}`);
  return result;
}

function failure(result: PublishResult) {
  if (result.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

describe('the X simulator: replies', () => {
  it("accepts a reply to the account's own post and records the chain", async () => {
    const [acme] = accounts;
    const first = await tweet(acme!, { text: 'Chain start' });
    expect(first.status).toBe(201);
    const second = await tweet(acme!, { text: 'Chain next', reply: { in_reply_to_tweet_id: idOf(first) } });
    expect(second.status).toBe(201);
    expect(sim.thread(idOf(first)).map((t) => t.text)).toEqual(['Chain start', 'Chain next']);
  });

  it("refuses a reply to a post that does not exist or was deleted, with X's problem shape", async () => {
    const [acme] = accounts;
    const missing = await tweet(acme!, { text: 'To nothing', reply: { in_reply_to_tweet_id: '1999999999999999999' } });
    expect(missing).toEqual({
      status: 403,
      json: {
        title: 'Forbidden',
        detail: 'You attempted to reply to a Tweet that is deleted or not visible to you.',
        type: 'about:blank',
        status: 403,
      },
    });
    const gone = await tweet(acme!, { text: 'Soon gone' });
    sim.deleteTweet(idOf(gone));
    expect((await tweet(acme!, { text: 'To gone', reply: { in_reply_to_tweet_id: idOf(gone) } })).status).toBe(403);
  });

  it("refuses a reply to another account's post (not summoned) and a malformed id", async () => {
    const [acme, support] = accounts;
    const theirs = await tweet(support!, { text: 'Support post' });
    const reply = await tweet(acme!, { text: 'Butting in', reply: { in_reply_to_tweet_id: idOf(theirs) } });
    expect(reply.status).toBe(403);
    expect(reply.json.detail).toMatch(/not been mentioned or otherwise engaged by the author/);
    const malformed = await tweet(acme!, { text: 'Bad id', reply: { in_reply_to_tweet_id: 'abc' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json.type).toBe('https://api.x.com/2/problems/invalid-request');
  });

  it('injects a fault on the Nth tweet only', async () => {
    const [acme] = accounts;
    sim.faultOnTweet(2, { kind: 'status', status: 503 });
    expect((await tweet(acme!, { text: 'Fault 1' })).status).toBe(201);
    expect((await tweet(acme!, { text: 'Fault 2' })).status).toBe(503);
    expect((await tweet(acme!, { text: 'Fault 3' })).status).toBe(201);
    expect(sim.faults).toHaveLength(0);
  });
});

describe('the X publisher posts a --- caption as a thread', () => {
  it('posts part 1 with the media and each next part as a reply to the one before; the link is the first post', async () => {
    const [acme] = accounts;
    const image = await pngFile(dir.media, dir.workDir);
    const req = request(acme!, 'Launch day!\n---\nWhat is new: faster.\n---\nThanks for reading.');
    const result = published(await x.publish({ ...req, draft: { ...req.draft, media: [image] } }));
    const chain = sim.thread(result.platformPostId);
    expect(chain.map((t) => t.text)).toEqual(['Launch day!', 'What is new: faster.', 'Thanks for reading.']);
    expect(chain.map((t) => t.media.length)).toEqual([1, 0, 0]);
    expect(result.permalink).toBe(`https://x.com/acme/status/${chain[0]!.id}`);
  });

  it('without a record of live parts: one commit for the thread, and a failure after part 1 is unknown (never resent)', async () => {
    const [acme] = accounts;
    sim.faultOnTweet(2, {
      kind: 'status',
      status: 403,
      body: { title: 'Forbidden', detail: 'You are not permitted to perform this action.', type: 'about:blank' },
    });
    const req = request(acme!, 'Unrecorded one --- Unrecorded two --- Unrecorded three');
    const before = sim.published.length;
    const failed = failure(await x.publish(req));
    const first = sim.published[before]!;
    expect(sim.published).toHaveLength(before + 1);
    expect(req.commits).toBe(1);
    expect(failed).toMatchObject({
      class: 'unknown',
      message: `part 1 of 3 is live (https://x.com/acme/status/${first.id}); part 2: X refused this post (X said: You are not permitted to perform this action); change it before posting again`,
    });
  });

  it('recording each live part: a commit per part, part 2 fails and keeps its class, a later run sends parts 2–3 only', async () => {
    const [acme] = accounts;
    const live: string[] = [];
    const onPartLive = (index: number, id: string, link: string) => {
      expect(index).toBe(live.length);
      expect(link).toBe(`https://x.com/acme/status/${id}`);
      live.push(id);
      return Promise.resolve();
    };
    sim.faultOnTweet(2, { kind: 'status', status: 503 });
    const caption = 'Resumed one\n---\nResumed two\n---\nResumed three';
    const first = request(acme!, caption, { onPartLive });
    const failed = failure(await x.publish(first));
    expect(failed.class).toBe('unknown'); // a 503 on a committing request: X may have created it
    expect(live).toHaveLength(1);
    expect(first.commits).toBe(2);

    sim.faultOnTweet(1, { kind: 'status', status: 429 });
    const limited = failure(await x.publish(request(acme!, caption, { onPartLive, liveParts: [...live] })));
    expect(limited).toMatchObject({ class: 'retryable' });
    // X's reason for part 2 alone: the caller, which recorded part 1, says which parts are live.
    expect(limited.message).toMatch(/^X's rate limit/);

    const uploadsBefore = sim.requests.filter((r) => r.path.startsWith('/2/media/upload')).length;
    const again = request(acme!, caption, { onPartLive, liveParts: [...live] });
    const result = published(await x.publish(again));
    expect(result.platformPostId).toBe(live[0]);
    expect(again.commits).toBe(2);
    expect(sim.thread(live[0]!).map((t) => t.text)).toEqual(['Resumed one', 'Resumed two', 'Resumed three']);
    expect(sim.published.filter((t) => t.text === 'Resumed one')).toHaveLength(1);
    expect(sim.requests.filter((r) => r.path.startsWith('/2/media/upload')).length).toBe(uploadsBefore);
  });

  it('a caption without --- is one post, as before', async () => {
    const [acme] = accounts;
    const req = request(acme!, 'Just one post -- no thread');
    const result = published(await x.publish(req));
    expect(sim.thread(result.platformPostId).map((t) => t.text)).toEqual(['Just one post -- no thread']);
    expect(sim.requests.filter((r) => r.path === '/2/tweets').at(-1)?.body).toEqual({
      kind: 'json',
      value: { text: 'Just one post -- no thread' },
    });
    expect(req.commits).toBe(1);
  });
});

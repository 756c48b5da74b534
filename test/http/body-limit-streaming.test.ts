/**
 * Issue 13, finding 11 (body limit): a body over 1 MB is refused with 413 whether or not it
 * declares its length, on every route that reads a body: the sandbox's multipart command API
 * (uploads), its JSON APIs, and `POST /slack/events`. Sent in chunks, with no Content-Length,
 * through the real server.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxSurface } from '../../src/sandbox/surface.js';
import { SIGNING_SECRET, SlackHarness } from '../bots/slack/harness.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { slackSignature } from '../simulators/slack.js';
import { filler, postChunked } from './chunked.js';

const MB = 1024 * 1024;
const BOUNDARY = '----iqsp-body-limit';

/** A multipart sandbox command from Ada carrying one file of `fileBytes` bytes, in 64 KiB parts. */
function multipartCommand(text: string, fileBytes: number): Buffer[] {
  const head = Buffer.from(
    [
      `--${BOUNDARY}`,
      'Content-Disposition: form-data; name="user"',
      '',
      'ada',
      `--${BOUNDARY}`,
      'Content-Disposition: form-data; name="text"',
      '',
      text,
      `--${BOUNDARY}`,
      'Content-Disposition: form-data; name="file"; filename="big.png"',
      'Content-Type: image/png',
      '',
      '',
    ].join('\r\n'),
  );
  return [head, ...filler(fileBytes), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)];
}

describe('sandbox APIs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ app: { surfaces: [createSandboxSurface({ published: () => [] })] } });
  }, 30_000);
  afterAll(async () => h?.close());

  const messages = async () =>
    ((await (await fetch(`${h.base}/sandbox/api/state?user=ada`)).json()) as { messages: Array<{ text: string }> }).messages;

  it('refuses a chunked upload over 1 MB with 413, runs nothing and keeps no file', async () => {
    const answer = await postChunked(`${h.base}/sandbox/api/command`, multipartCommand('/iqsp help', 3 * MB), {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/limit of 1048576 bytes/);
    expect((await messages()).map((m) => m.text)).not.toContain('/iqsp help (📎 1 file)');
    const uploads = path.join(h.dir, 'media', 'sandbox-uploads');
    expect(readdirSafe(uploads)).toEqual([]);
  });

  it('still takes a small chunked command', async () => {
    const answer = await postChunked(`${h.base}/sandbox/api/command`, multipartCommand('/iqsp help', 1000), {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    });
    expect(answer.status, answer.body).toBe(200);
  });

  it('refuses a chunked JSON body over its limit with 413', async () => {
    const answer = await postChunked(
      `${h.base}/sandbox/api/react`,
      [Buffer.from('{"user":"ada","pad":"'), ...filler(2 * MB), Buffer.from('"}')],
      {
        'content-type': 'application/json',
      },
    );
    expect(answer.status).toBe(413);
  });
});

describe('POST /slack/events', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  }, 30_000);
  afterAll(async () => h?.close());

  it('refuses a chunked body over 1 MB with 413, signed or not', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const parts = [Buffer.from('token=x&text='), ...filler(2 * MB)];
    const body = Buffer.concat(parts).toString('utf8');
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp) };
    expect(
      (
        await postChunked(`${h.url}/slack/events`, parts, {
          ...headers,
          'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
        })
      ).status,
    ).toBe(413);
    expect((await postChunked(`${h.url}/slack/events`, parts, { ...headers, 'x-slack-signature': 'v0=00' })).status).toBe(413);
  });
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

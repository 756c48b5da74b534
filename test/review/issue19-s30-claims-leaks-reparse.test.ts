/**
 * Review (issue 19, session 30: a queued slash command is held as its raw bytes and claimed in
 * its turn). (4) Nothing sensitive — the signing secret, the request's signature, Slack's
 * verification token, the response_url's secret path — reaches the logs (debug level, both
 * loggers) or what is posted to a response_url, on every path a command can now take: run,
 * replay dropped, claim failed, abandoned at stop, response_url failing. (5) The form the work
 * gets, parsed again in its turn, is the form that was acked: odd encodings, invalid UTF-8, a
 * charset, repeated keys, and a JSON body.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { Writable } from 'node:stream';
import type { App, ReceiverEvent } from '@slack/bolt';
import { afterEach, expect, it } from 'vitest';
import { SlackReceiver } from '../../src/bots/slack/receiver.js';
import { createLogger } from '../../src/observability/logger.js';
import { commandRequest, sendToApp, slackSignature } from '../simulators/slack.js';

const SECRET = 's30-Zq8vN3kP7wX2mR5tY9uB4cH6jL1dF0gA';
const VERIFICATION_TOKEN = 'gIkuvaNzQIHg97ATvDxqgjtO'; // the fixture's `token`
const HOOK_SECRET = 'dnkTJ8R4OyoVw1xcMmLJKvjQ';
const QUIET = { quietMs: 300, maxWaitMs: 60_000 };
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const logs: string[] = [];
const sink = new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) });
const slackLogger = Object.fromEntries(
  ['debug', 'info', 'warn', 'error'].map((level) => [
    level,
    (...args: unknown[]) =>
      void logs.push(
        `${level} ${args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`,
      ),
  ]),
);

async function instance(options: {
  claimSignature: (hash: string) => Promise<boolean>;
  run?: (body: Record<string, unknown>) => Promise<void>;
}) {
  const posted: string[] = [];
  const receiver = new SlackReceiver({
    signingSecret: SECRET,
    logger: createLogger('debug', sink),
    slackLogger: { ...slackLogger, setLevel() {}, getLevel: () => 'debug', setName() {} } as never,
    bodyLimitBytes: 1024 * 1024,
    drainMs: 5_000,
    claimSignature: options.claimSignature,
    commandPause: QUIET,
  });
  receiver.init({
    processEvent: async (event: ReceiverEvent) => {
      await event.ack();
      await options.run?.(event.body);
    },
  } as unknown as App);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/commands/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posted.push(Buffer.concat(chunks).toString());
        res.statusCode = req.url!.includes('/fail/') ? 500 : 200;
        res.end('ok');
      });
      return;
    }
    void receiver.handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, receiver, posted };
}

it('no secret, signature, verification token or response_url reaches the logs or a response_url post, on any path', async () => {
  logs.length = 0;
  const signatures: string[] = [];
  const send = async (url: string, request: ReturnType<typeof commandRequest>, timestamp = Math.floor(Date.now() / 1000)) => {
    signatures.push(slackSignature(SECRET, timestamp, request.body));
    return sendToApp(url, SECRET, request, { timestamp });
  };
  const claimed = new Set<string>();
  // Runs, then a replay dropped; the command's work itself fails (its error is logged).
  const ok = await instance({
    claimSignature: (hash) => Promise.resolve(!claimed.has(hash) && Boolean(claimed.add(hash))),
    run: async () => {
      throw new Error('users.info failed');
    },
  });
  const first = commandRequest('slash-command', { response_url: `${ok.url}/commands/T0001/1/${HOOK_SECRET}` });
  const ts = Math.floor(Date.now() / 1000);
  await send(ok.url, first, ts);
  await send(ok.url, first, ts);
  await ok.receiver.idle();
  // The claim fails; one response_url answers 500, one refuses the connection.
  const failing = await instance({
    claimSignature: () => Promise.reject(new Error('claiming deliveries failed: SQLITE_IOERR: disk I/O error')),
  });
  await send(
    failing.url,
    commandRequest('slash-command', { trigger_id: 'a', response_url: `${failing.url}/commands/T0001/2/${HOOK_SECRET}` }),
  );
  await send(
    failing.url,
    commandRequest('slash-command', { trigger_id: 'b', response_url: `${failing.url}/commands/fail/3/${HOOK_SECRET}` }),
  );
  await send(
    failing.url,
    commandRequest('slash-command', { trigger_id: 'c', response_url: `http://127.0.0.1:1/commands/T0001/4/${HOOK_SECRET}` }),
  );
  await failing.receiver.idle();
  // Abandoned at stop.
  const stopping = await instance({ claimSignature: () => Promise.resolve(true) });
  await send(
    stopping.url,
    commandRequest('slash-command', { trigger_id: 'd', response_url: `${stopping.url}/commands/T0001/5/${HOOK_SECRET}` }),
  );
  await stopping.receiver.stop();

  const text = logs.join('\n');
  expect(text).toMatch(/could not be recorded/);
  expect(text).toMatch(/IQSP is stopping/);
  expect(text).toMatch(/response_url failed/);
  expect(text).toMatch(/replay/);
  expect(text).toMatch(/failed after its ack/);
  for (const secret of [SECRET, VERIFICATION_TOKEN, HOOK_SECRET, ...signatures, ...signatures.map((s) => s.slice(3))])
    expect(text).not.toContain(secret);

  const posts = [...ok.posted, ...failing.posted, ...stopping.posted];
  expect(posts).toHaveLength(3);
  for (const post of posts) {
    expect(Object.keys(JSON.parse(post) as object).sort()).toEqual(['response_type', 'text']);
    for (const secret of [SECRET, VERIFICATION_TOKEN, HOOK_SECRET, 'SQLITE', ...signatures]) expect(post).not.toContain(secret);
  }
}, 20_000);

it('the form parsed again in its turn is the form that was acked, whatever its encoding', async () => {
  const got: Array<Record<string, unknown>> = [];
  const a = await instance({ claimSignature: () => Promise.resolve(true), run: async (body) => void got.push(body) });
  const base = commandRequest('slash-command', { text: 'x' }).body.replace(/&text=x/, '');
  const bodies: Array<{ bytes: Buffer; contentType: string; expected: () => Record<string, unknown> }> = [];
  const form = (tail: Buffer, contentType = 'application/x-www-form-urlencoded') => {
    const bytes = Buffer.concat([Buffer.from(base), tail]);
    bodies.push({ bytes, contentType, expected: () => ({ ...parseQuery(bytes.toString('utf8')) }) });
  };
  form(Buffer.from('&text=post+%F0%9F%9A%80+caf%C3%A9+%2B+a%26b%3Dc+%25'));
  form(Buffer.concat([Buffer.from('&text=raw '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' é 🚀')]));
  form(Buffer.from('&text=%E0%A4%A&text=second&payload_x=1'));
  form(Buffer.from('&text=charset'), 'application/x-www-form-urlencoded; charset=utf-8');
  form(Buffer.from('&text=' + 'long'.repeat(20_000)));
  const json = Buffer.from(JSON.stringify({ ...parseQuery(base), text: 'json \u2028 "q" \\ é', __proto__x: { a: [1, 2] } }));
  bodies.push({
    bytes: json,
    contentType: 'application/json',
    expected: () => JSON.parse(json.toString('utf8')) as Record<string, unknown>,
  });

  for (const { bytes, contentType } of bodies) {
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(`${a.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(SECRET, timestamp, bytes.toString('utf8')),
      },
      body: bytes,
    });
    expect(response.status).toBe(200);
  }
  await a.receiver.idle();
  expect(got).toHaveLength(bodies.length);
  for (const [i, { expected }] of bodies.entries()) expect({ ...got[i] }).toEqual(expected());
}, 20_000);

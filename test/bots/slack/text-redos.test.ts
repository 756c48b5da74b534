/**
 * Finding 5 (issue 13): Slack text rendering is linear in its input. A caption or command of
 * `<http:` and many `|` used to backtrack quadratically (2.2 s at 40k characters, blocking the
 * process). Time is asserted by growth, not by an absolute budget: four times the input may take
 * about four times as long (the bound is 8, half of what a quadratic pattern takes, 16), and
 * each figure is the median of several runs so a garbage collection or a busy neighbour does not
 * decide the outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toSlackMessage } from '../../../src/bots/slack/blocks.js';
import { fromSlackText, toMrkdwn } from '../../../src/bots/slack/text.js';
import { commandRequest } from '../../simulators/slack.js';
import { SlackHarness } from './harness.js';

const adversarial = (n: number): string => `<http:${'|'.repeat(n)}`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Milliseconds of `reps` calls of `work`, the median of `runs` measurements. */
function timed(work: () => unknown, reps: number, runs: number): number {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    for (let i = 0; i < reps; i++) work();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/**
 * How much longer `work(4n)` takes than `work(n)`: enough repetitions that the smaller input
 * takes at least 20 ms (so timer resolution does not matter), the same repetitions for both.
 */
function growth(work: (input: string) => unknown, n: number): { small: number; large: number; ratio: number } {
  const small = adversarial(n);
  const large = adversarial(4 * n);
  let reps = 1;
  while (timed(() => work(small), reps, 1) < 20 && reps < 1 << 16) reps *= 2;
  const smallMs = timed(() => work(small), reps, 5);
  const largeMs = timed(() => work(large), reps, 5);
  return { small: smallMs, large: largeMs, ratio: largeMs / smallMs };
}

describe('Slack text rendering grows linearly with adversarial input', () => {
  it('toMrkdwn and toSlackMessage: 4× the input takes at most about 4× the time', () => {
    for (const work of [toMrkdwn, (text: string) => toSlackMessage({ text, fields: [{ label: 'Caption', value: text }] }), fromSlackText]) {
      // The best of up to three measurements: a busy machine (another test, CI) can slow one of
      // them; a quadratic pattern is ~16× every time (18.3× measured before the fix).
      let ratio = Infinity;
      for (let tried = 0; tried < 3 && ratio >= 8; tried++) ratio = Math.min(ratio, growth(work, 4000).ratio);
      expect(ratio).toBeLessThan(8);
    }
    // Still the same text, escaped.
    expect(toMrkdwn(adversarial(3))).toBe('&lt;http:|||');
  }, 60_000);
});

describe('through /slack/events', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start();
  });
  afterAll(async () => {
    await h?.close();
  });

  /** `/iqsp <http:|||…`: the reply names the unknown command, so the whole word is rendered back. */
  async function roundTrip(n: number): Promise<number> {
    const responseUrl = h.fake.responseUrl();
    const started = performance.now();
    // Slack escapes `<` in what people type.
    const response = await h.send(commandRequest('slash-command', { text: `&lt;http:${'|'.repeat(n)}`, response_url: responseUrl }));
    expect(response.status).toBe(200);
    const id = responseUrl.split('/').pop();
    const reply = await h.fake.waitForResponse((p) => p.id === id, 60_000);
    const elapsed = performance.now() - started;
    expect(String(reply.body.text)).toContain(`&lt;http:${'|'.repeat(n)}`);
    return elapsed;
  }

  it('a command of `<http:` and many `|` is answered in time that grows linearly', async () => {
    await roundTrip(100); // warm up the route
    const n = 5000;
    const small: number[] = [];
    const large: number[] = [];
    for (let run = 0; run < 3; run++) {
      small.push(await roundTrip(n));
      large.push(await roundTrip(4 * n));
    }
    // The request's own cost (HTTP, database, the fake Slack) is the same for both sizes.
    expect(median(large) / median(small)).toBeLessThan(4);
  }, 120_000);
});

/**
 * "Fail once at database statement k", for every k, across what moves a post: the publish
 * handler, the approval decision (a ✅, and a post that needs no approval), `retry`, `cancel`
 * and cleanup. Each scenario runs once without a fault to count its statements (N), then once
 * for each k = 1..N with statement k failing with a transient database error. After each run the
 * system is let recover as it would in service: the worker keeps polling, cleanup ticks, a chat
 * event whose handling failed is delivered again (Slack and Discord retry), and then:
 *
 * - every target ends in a final state and is said in its thread (and the post's summary);
 * - every post whose quorum of approvals is recorded is approved and has its publish jobs;
 * - at most one committing request per target reached the platform;
 * - nothing is left `publishing` (or `queued`) without a live job.
 *
 * Every broken invariant of every run is collected, so one failing run does not hide the others;
 * the report names the scenario, k, the statement that failed and what broke.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { squarePng } from '../e2e/platforms.js';
import { TEST_DIALECT } from '../helpers/db.js';
import { approvalMessageId, LEASE_MS, settled, startFaultWorld, tidy, untilQuiet, violations, type FaultWorld } from './fault-world.js';

let world: FaultWorld;

beforeAll(async () => {
  world = await startFaultWorld();
}, 60_000);
afterAll(async () => {
  await world?.close();
});

interface Scenario {
  name: string;
  /** Prepares a post carrying `marker` (fault-free); returns the action the fault is swept across. */
  setup(marker: string): Promise<Action>;
}

interface Action {
  run(): Promise<unknown>;
  /**
   * 'action': the window is the action's own statements (it returns when its work is done);
   * 'quiet': the action only starts work (the worker): the window lasts until the service is quiet.
   */
  window: 'action' | 'quiet';
  /** What the chat does when handling the action failed: deliver it again (once), or nothing. */
  redeliver: boolean;
}

async function post(text: string): Promise<string> {
  const reply = await world.h.run('U_ADA', text);
  const id = /Post ([A-Z0-9]+) (is waiting|from)/.exec(reply.message.text)?.[1];
  if (!id) throw new Error(`post refused: ${reply.message.text}`);
  return id;
}

/** A command as Ada types it; the apology for an internal error is a failure (she will type it again). */
async function command(text: string): Promise<string> {
  const reply = await world.h.run('U_ADA', text);
  if (/something went wrong on IQSP's side/.test(reply.message.text)) throw new Error(reply.message.text);
  return reply.message.text;
}

const approve = (postId: string) =>
  world.h.app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId: approvalMessageId(world, postId),
    userExternalId: 'U_BOB',
    isBot: false,
    decision: 'approve',
    via: 'reaction',
  });

async function until(probe: () => Promise<boolean>, what: string, postId: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      const targets = await world.observer
        .selectFrom('post_targets')
        .select(['platform', 'status', 'attempts', 'failure_message', 'finished_at'])
        .where('post_id', '=', postId)
        .execute();
      throw new Error(`setup: timed out waiting for ${what}: ${JSON.stringify(targets)}`);
    }
    world.h.app.core.worker.poke();
    await sleep(20);
  }
}

const targetsOf = (postId: string) =>
  world.observer
    .selectFrom('post_targets')
    .select(['platform', 'status', 'finished_at', 'attempts'])
    .where('post_id', '=', postId)
    .execute();

const SCENARIOS: Scenario[] = [
  {
    name: 'publish (the handler, two targets)',
    async setup(marker) {
      // Jobs wait until the fault is armed: the worker is stopped while the post is approved.
      await world.h.app.core.worker.stop();
      const id = await post(`post x,facebook Publish ${marker}`);
      await approve(id);
      return { run: () => world.h.app.core.worker.start(), window: 'quiet', redeliver: false };
    },
  },
  {
    name: 'approval decision (the ✅ that reaches the quorum)',
    async setup(marker) {
      const id = await post(`post x,facebook Approve ${marker}`);
      return { run: () => approve(id), window: 'action', redeliver: true };
    },
  },
  {
    name: 'retry (a target that failed retryably)',
    async setup(marker) {
      // X's rate limit on every attempt (its reset is now, so no wait): the target fails, retryably.
      world.h.sims.x.faults.push({
        match: (method, path) => method === 'POST' && path === '/2/tweets',
        kind: 'status',
        status: 429,
        times: 3,
        headers: {
          'x-rate-limit-limit': '100',
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(Math.floor(Date.now() / 1000)),
        },
      });
      const id = await post(`post x,facebook Retry ${marker}`);
      await approve(id);
      await until(
        async () => (await targetsOf(id)).every((t) => ['failed', 'published'].includes(t.status) && t.finished_at !== null),
        'X failed and Facebook published',
        id,
      );
      world.h.sims.x.faults.length = 0;
      return { run: () => command(`retry ${id}`), window: 'action', redeliver: true };
    },
  },
  {
    name: 'cancel (a post waiting for approval)',
    async setup(marker) {
      const id = await post(`post x,facebook Cancel pending ${marker}`);
      return { run: () => command(`cancel ${id}`), window: 'action', redeliver: true };
    },
  },
  {
    name: 'cancel (an approved post, one target waiting for a retry)',
    async setup(marker) {
      const reset = Math.floor(Date.now() / 1000) + 30;
      world.h.sims.x.faults.push({
        match: (method, path) => method === 'POST' && path === '/2/tweets',
        kind: 'status',
        status: 429,
        headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
      });
      const id = await post(`post x,facebook Cancel queued ${marker}`);
      await approve(id);
      await until(
        async () => {
          const targets = await targetsOf(id);
          return (
            targets.some((t) => t.platform === 'x' && t.status === 'queued' && t.attempts > 0) &&
            targets.some((t) => t.platform === 'facebook' && t.finished_at !== null)
          );
        },
        'X waiting for its retry and Facebook published',
        id,
      );
      return { run: () => command(`cancel ${id}`), window: 'action', redeliver: true };
    },
  },
  {
    name: 'cleanup (an expired request, media of a finished post)',
    async setup(marker) {
      const expiring = await post(`post x Expire ${marker}`);
      await world.observer
        .updateTable('posts')
        .set({ approval_expires_at: '2000-01-01T00:00:00.000Z' })
        .where('id', '=', expiring)
        .execute();
      const reply = await world.h.run('U_ADA', `post x With an image ${marker}`, {}, [{ name: 'square.png', body: await squarePng(400) }]);
      const rejected = /Post ([A-Z0-9]+) is waiting/.exec(reply.message.text)?.[1];
      if (!rejected) throw new Error(`post refused: ${reply.message.text}`);
      await world.h.app.core.posts.decide({
        chat: 'slack',
        workspaceExternalId: 'T1',
        messageId: approvalMessageId(world, rejected),
        userExternalId: 'U_BOB',
        isBot: false,
        decision: 'reject',
        via: 'reaction',
      });
      // The next tick is the redelivery here: recovery runs cleanup on its own schedule.
      return { run: () => world.h.app.core.cleanup.run(), window: 'action', redeliver: false };
    },
  },
  {
    name: 'post that needs no approval (approvals 0)',
    async setup(marker) {
      // A failed `post` is not sent again by the chat: the person sees the error.
      return { run: () => command(`post x,facebook No approval needed ${marker}`), window: 'action', redeliver: false };
    },
  },
];

/** One run: set up, arm the fault at `k` (0: none), act, let the system recover; the broken invariants. */
async function runOnce(
  scenario: Scenario,
  k: number,
): Promise<{ counted: number; failedAt: string | undefined; broken: string[]; actionError: string | undefined }> {
  const marker = `[f${randomBytes(4).toString('hex')}]`;
  const action = await scenario.setup(marker);
  await untilQuiet(world, 60);
  const { fault } = world;
  if (k === 0) fault.reset();
  else fault.arm(k);
  let actionError: string | undefined;
  try {
    await action.run();
  } catch (error) {
    actionError = error instanceof Error ? error.message : String(error);
  }
  if (action.window === 'quiet') await untilQuiet(world, 150);
  const counted = fault.counted;
  if (actionError !== undefined && action.redeliver) {
    try {
      await action.run();
    } catch (error) {
      actionError += `; delivered again: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  // Recovery: the worker polls, cleanup ticks, until the posts settle or a lease and more have passed.
  const deadline = Date.now() + 2 * LEASE_MS + 2_000;
  let lastCleanup = 0;
  while (Date.now() < deadline && !(await settled(world, marker))) {
    world.h.app.core.worker.poke();
    world.h.app.core.noticeWorker.poke();
    if (Date.now() - lastCleanup > 400) {
      lastCleanup = Date.now();
      await world.h.app.core.cleanup.run().catch(() => undefined);
    }
    await sleep(25);
  }
  await untilQuiet(world, 60);
  const broken = await violations(world, marker);
  const failedAt = fault.failed
    ? `#${fault.failed.n} ${fault.failed.kind}${fault.failed.table ? ` ${fault.failed.table}` : ''}`
    : undefined;
  fault.disarm();
  await tidy(world, marker);
  return { counted, failedAt, broken, actionError };
}

interface Finding {
  scenario: string;
  k: number;
  statement: string | undefined;
  broken: string[];
}

const findings: Finding[] = [];
const sweeps: Array<{ scenario: string; statements: number; runs: number; failures: number; seconds: number }> = [];

afterAll(() => {
  const lines = sweeps.map(
    (s) => `  ${s.scenario}: ${s.statements} statements swept, ${s.runs} runs, ${s.failures} failing runs, ${s.seconds.toFixed(1)} s`,
  );
  console.info(
    `[statement sweep on ${TEST_DIALECT}]\n${lines.join('\n')}\n  total: ${sweeps.reduce((a, s) => a + s.runs, 0)} runs, ${findings.length} failing`,
  );
});

describe(`fail once at database statement k, every k (${TEST_DIALECT})`, () => {
  for (const scenario of SCENARIOS) {
    it(
      scenario.name,
      async () => {
        const started = Date.now();
        const noApproval = scenario.name.startsWith('post that');
        if (noApproval) await world.h.run('U_ADA', 'approvals 0', { isAdmin: true });
        try {
          const clean = await runOnce(scenario, 0);
          // The scenario itself must hold without a fault, or the sweep would prove nothing.
          expect(clean.actionError, 'the fault-free run failed').toBeUndefined();
          expect(clean.broken, 'the fault-free run broke an invariant').toEqual([]);
          expect(clean.counted).toBeGreaterThan(0);
          const mine: Finding[] = [];
          for (let k = 1; k <= clean.counted; k += 1) {
            const run = await runOnce(scenario, k);
            if (run.broken.length > 0) mine.push({ scenario: scenario.name, k, statement: run.failedAt, broken: run.broken });
          }
          findings.push(...mine);
          sweeps.push({
            scenario: scenario.name,
            statements: clean.counted,
            runs: clean.counted + 1,
            failures: mine.length,
            seconds: (Date.now() - started) / 1000,
          });
          const report = mine.map((f) => `k=${f.k} (${f.statement ?? 'not reached'}): ${f.broken.join(' | ')}`);
          expect(report, `${mine.length} of ${clean.counted} runs broke an invariant`).toEqual([]);
        } finally {
          if (noApproval) await world.h.run('U_ADA', 'approvals 1', { isAdmin: true });
        }
      },
      900_000,
    );
  }
});

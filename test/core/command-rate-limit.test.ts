/**
 * Issue 13, finding 11 (per chat user rate limit): a person sending commands faster than the
 * limit gets a clear private message saying the limit and how long to wait, and nothing runs;
 * other people are not affected; once the window has passed, commands run again. Time is the
 * app's clock, moved by the test.
 */
import { afterEach, expect, it } from 'vitest';
import { COMMAND_RATE_LIMIT } from '../../src/core/commands.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('answers a person past the command limit with a message naming it, without running the command', async () => {
  let at = Date.now();
  // The harness lifts the limit for tests that script hundreds of commands; this one runs the default.
  h = await startHarness({ app: { now: () => new Date(at), commandRateLimit: COMMAND_RATE_LIMIT } });
  expect(COMMAND_RATE_LIMIT).toEqual({ limit: 30, windowMs: 60_000 });

  for (let i = 0; i < 30; i += 1) expect((await h.run('U_ADA', 'help')).message.text).toMatch(/connect/);
  at += 15_000;
  const refused = await h.run('U_ADA', 'connect x');
  expect(refused.visibility).toBe('private');
  expect(refused.message.text).toBe(
    'You are sending commands faster than IQSP takes them from one person (at most 30 a minute). Nothing was run; try again in 45 seconds.',
  );
  // Nothing ran: no connect link was made.
  expect(await h.app.services.db.selectFrom('connect_links').select('id').execute()).toEqual([]);

  // Someone else in the workspace is served.
  expect((await h.run('U_BOB', 'connect x')).message.text).toMatch(/\/connect\//);

  at += 45_000;
  expect((await h.run('U_ADA', 'connect x')).message.text).toMatch(/\/connect\//);
});

/**
 * Finding 16 (issue 13): a retryable failure's text is redacted like every other failure before
 * it is stored (the target's failure, the job's reason, the durable notice) and said in the
 * thread. X answers 409 with its own words, which here carry a token; the publish is retried
 * and succeeds, and the token is nowhere: not in the thread, not in the database.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
const SECRET = 'leaked-secret-4f1c9a';

beforeAll(async () => {
  h = await startHarness();
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

function postIdOf(text: string): string {
  const id = /Post ([A-Z0-9]+) is waiting for approval/.exec(text)?.[1];
  if (!id) throw new Error(`no post id in: ${text}`);
  return id;
}

describe('a retryable failure whose platform text carries a secret', () => {
  it('is stored and said redacted', async () => {
    h.sims.x.faults.push({
      match: (method, path) => method === 'POST' && path === '/2/tweets',
      kind: 'status',
      status: 409,
      body: { title: 'Conflict', detail: `Retry with access_token=${SECRET} or Bearer ${SECRET}`, type: 'about:blank' },
    });
    const postId = postIdOf((await h.run('U_ADA', 'post x Redaction day')).message.text);
    const approval = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`))!;
    await h.app.core.posts.decide({
      chat: 'slack',
      workspaceExternalId: 'T1',
      messageId: approval.id,
      userExternalId: 'U_BOB',
      isBot: false,
      decision: 'approve',
      via: 'reaction',
    });
    const thread = () => h.chat.thread(approval.id);
    const retry = await h.chat.waitFor(() => thread().find((t) => /trying again in/.test(t)), 15_000);
    expect(retry).toMatch(
      /^X @acme: X could not complete the request \(409\) \(X said: Retry with access_token=\[redacted\] or Bearer \[redacted\]\); try again; trying again in \d+ (ms|s) \(attempt 2 of \d+\)\.$/,
    );
    await h.chat.waitFor(() => thread().find((t) => /^Post [A-Z0-9]+: published/.test(t)), 15_000);

    expect(thread().join('\n')).not.toContain(SECRET);
    // Whatever was stored on the way: the target, its jobs and their reasons, the notices, the audit.
    for (const table of ['post_targets', 'jobs', 'audit_log', 'posts'] as const) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(h.app.services.db);
      expect(JSON.stringify(rows.rows), table).not.toContain(SECRET);
    }
  });
});

/**
 * Decisions that must never be lost or half-applied, whatever fails in between:
 * - the ✅ that reaches the quorum approves the post and creates its publish jobs in one
 *   transaction, so a database failure at any statement of the decision leaves either nothing
 *   (and the ✅, still on the message, is read back by the expiry check) or an approved post
 *   with its jobs; the same for a post that needs no approval;
 * - a ❌ ends the post in the transaction that counts it: a failure cannot leave a vetoed post
 *   waiting, to be approved later; a ❌ and a ✅ at the same moment give one outcome;
 * - `cancel` names only the targets it really cancelled.
 *
 * A failure is injected as a Kysely plugin on a second core over the same database (as a second
 * instance would be), failing once at the k-th statement that core runs.
 */
import {
  sql,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCore } from '../../src/app.js';
import { type Core } from '../../src/runtime.js';
import type { DecisionKind } from '../../src/core/approval.js';
import { onPostgres } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/harness.js';

/** Fails the statement numbered `failAt` (1-based) that passes through it, `times` times in a row (once by default); counts them all. */
class StatementFault implements KyselyPlugin {
  count = 0;
  constructor(
    private readonly failAt: number | undefined,
    private readonly matches: (node: RootOperationNode) => boolean = () => true,
    private readonly times = 1,
  ) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (!this.matches(args.node)) return args.node;
    this.count += 1;
    if (this.failAt !== undefined && this.count >= this.failAt && this.count < this.failAt + this.times)
      throw new Error(`injected database failure at statement ${this.failAt}`);
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** A core like the app's, on the same database through `plugin` (another instance, with a flaky connection). */
function coreWith(h: Harness, plugin: KyselyPlugin): Core {
  return buildCore({ ...h.app.services, db: h.app.services.db.withPlugin(plugin) }, { chatPorts: { slack: h.chat } });
}

function postIdOf(text: string): string {
  const id = /Post ([A-Z0-9]+) is waiting for approval/.exec(text)?.[1];
  if (!id) throw new Error(`no post id in: ${text}`);
  return id;
}

function approvalMessageId(h: Harness, postId: string): string {
  const message = h.chat.channel.find((m) => !m.threadId && m.history[0]!.text.startsWith(`Post ${postId} from`));
  if (!message) throw new Error(`no approval message for ${postId}`);
  return message.id;
}

const decide = (core: Core, h: Harness, user: string, postId: string, decision: DecisionKind) =>
  core.posts.decide({
    chat: 'slack',
    workspaceExternalId: 'T1',
    messageId: approvalMessageId(h, postId),
    userExternalId: user,
    isBot: false,
    decision,
    via: 'reaction',
  });

async function postStatus(h: Harness, postId: string): Promise<string> {
  return (await h.app.services.db.selectFrom('posts').select('status').where('id', '=', postId).executeTakeFirstOrThrow()).status;
}

/** Time passes for the notices waiting in the queue: they are due now (the notice worker takes them). */
async function noticesDueNow(h: Harness): Promise<void> {
  await h.app.services.db
    .updateTable('jobs')
    .set({ run_at: new Date(Date.now() - 1000).toISOString() })
    .where('queue', '=', 'notice')
    .where('status', '=', 'queued')
    .execute();
}

/** The post's status once it is over (rejected or published). */
async function settled(h: Harness, postId: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await postStatus(h, postId);
    if (['rejected', 'published', 'failed', 'cancelled'].includes(status) || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every target of the post is past `pending`, and each one queued has its publish job. */
async function targetsHaveJobs(h: Harness, postId: string): Promise<Array<{ status: string; job: string | null }>> {
  const db = h.app.services.db;
  const targets = await db.selectFrom('post_targets').select(['id', 'status']).where('post_id', '=', postId).execute();
  return Promise.all(
    targets.map(async (t) => {
      const job = await db.selectFrom('jobs').select('status').where('dedupe_key', '=', `publish:${t.id}`).executeTakeFirst();
      return { status: t.status, job: job?.status ?? null };
    }),
  );
}

describe('the deciding ✅ and a post that needs no approval', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    expect((await h.connect('x')).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a database failure at any statement of the deciding ✅ never leaves an approved ✅ without its post approved and its jobs', async () => {
    // How many statements a clean decision runs.
    const counter = new StatementFault(undefined);
    const clean = postIdOf((await h.run('U_ADA', 'post x Counting statements')).message.text);
    h.chat.react(approvalMessageId(h, clean), 'U_BOB', 'approve');
    await decide(coreWith(h, counter), h, 'U_BOB', clean, 'approve');
    expect(await postStatus(h, clean)).not.toBe('pending_approval');
    const statements = counter.count;
    expect(statements).toBeGreaterThan(8);

    for (let k = 1; k <= statements; k += 1) {
      const postId = postIdOf((await h.run('U_ADA', `post x Fault at statement ${k}`)).message.text);
      // Bob's ✅ is on the message whatever happens to its event.
      h.chat.react(approvalMessageId(h, postId), 'U_BOB', 'approve');
      await decide(coreWith(h, new StatementFault(k)), h, 'U_BOB', postId, 'approve').catch(() => undefined);
      // The expiry check looks at every pending post.
      await h.app.core.cleanup.run();
      expect(await postStatus(h, postId), `fault at statement ${k}`).not.toBe('pending_approval');
      for (const target of await targetsHaveJobs(h, postId))
        expect(target.job, `fault at statement ${k}: ${JSON.stringify(target)}`).not.toBeNull();
      // A notice not said at once (the failure hit the chat step) is said by the notice worker.
      await noticesDueNow(h);
      const said = await h.chat.waitFor(() =>
        h.chat.thread(approvalMessageId(h, postId)).find((t) => t.startsWith('approved by <@U_BOB> (1 of 1): publishing now.')),
      );
      expect(said).toBeTruthy();
    }
  });

  it('with `approvals 0`, a failure at any statement of the request leaves no post waiting and every approved post with its jobs', async () => {
    expect((await h.run('U_ADA', 'approvals 0', { isAdmin: true })).message.text).toBe(
      'Posts in this workspace now publish without approval.',
    );
    try {
      const db = h.app.services.db;
      const counter = new StatementFault(undefined);
      const before = new Set((await db.selectFrom('posts').select('id').execute()).map((p) => p.id));
      await coreWith(h, counter).commands.runText(
        {
          chat: 'slack',
          workspaceExternalId: 'T1',
          workspaceName: 'Acme',
          userExternalId: 'U_ADA',
          userName: 'U_ADA',
          isAdmin: false,
          channelId: 'C1',
        },
        'post x No approval needed',
        [],
      );
      const statements = counter.count;
      expect(statements).toBeGreaterThan(8);
      for (let k = 1; k <= statements; k += 1) {
        const core = coreWith(h, new StatementFault(k));
        await core.commands
          .runText(
            {
              chat: 'slack',
              workspaceExternalId: 'T1',
              workspaceName: 'Acme',
              userExternalId: 'U_ADA',
              userName: 'U_ADA',
              isAdmin: false,
              channelId: 'C1',
            },
            `post x No approval, fault at ${k}`,
            [],
          )
          .catch(() => undefined);
        await h.app.core.cleanup.run();
      }
      const posts = await db.selectFrom('posts').select(['id', 'status', 'approval_message_id']).execute();
      const made = posts.filter((p) => !before.has(p.id));
      expect(made.length).toBeGreaterThan(statements / 2);
      for (const post of made) {
        if (post.status === 'cancelled' && post.approval_message_id === null) continue; // its message never went out
        expect(post.status, JSON.stringify(post)).not.toBe('pending_approval');
        for (const target of await targetsHaveJobs(h, post.id)) expect(target.job, JSON.stringify({ post, target })).not.toBeNull();
      }
    } finally {
      await h.run('U_ADA', 'approvals 1', { isAdmin: true });
    }
  });
});

describe('a decided post is never overwritten', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    expect((await h.connect('x')).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a ❌ whose ending failed once still ends the post: a later ✅ publishes nothing', async () => {
    const postId = postIdOf((await h.run('U_ADA', 'post x Vetoed once and for all')).message.text);
    // Fails the first write that would end the post as rejected.
    const fault = new StatementFault(1, (node) => node.kind === 'UpdateQueryNode' && JSON.stringify(node).includes('"rejected"'));
    await decide(coreWith(h, fault), h, 'U_BOB', postId, 'reject').catch(() => undefined);
    expect(fault.count).toBeGreaterThan(0);
    await decide(h.app.core, h, 'U_CARA', postId, 'approve');
    expect(await postStatus(h, postId)).toBe('rejected');
    expect(await targetsHaveJobs(h, postId)).toEqual([{ status: 'cancelled', job: null }]);
    expect(h.chat.thread(approvalMessageId(h, postId)).filter((t) => t.startsWith('approved by'))).toEqual([]);
    expect(h.sims.x.published.filter((p) => p.text === 'Vetoed once and for all')).toEqual([]);
  });

  it('a ❌ and a ✅ at the same moment give one outcome, said once, and the post keeps it', async () => {
    for (let round = 0; round < 6; round += 1) {
      const caption = `Both at once, round ${round}`;
      const postId = postIdOf((await h.run('U_ADA', `post x ${caption}`)).message.text);
      const [first, second] = round % 2 === 0 ? (['reject', 'approve'] as const) : (['approve', 'reject'] as const);
      await Promise.all([decide(h.app.core, h, 'U_BOB', postId, first), decide(h.app.core, h, 'U_CARA', postId, second)]);
      const thread = () => h.chat.thread(approvalMessageId(h, postId));
      const outcomes = thread().filter((t) => /^(rejected by|approved by <@U_\w+> \(1 of 1\): publishing now)/.test(t));
      expect(outcomes, `round ${round}: ${JSON.stringify(thread())}`).toHaveLength(1);
      const status = await settled(h, postId);
      expect(status, `round ${round}: ${JSON.stringify(thread())} ${JSON.stringify(await targetsHaveJobs(h, postId))}`).toBe(
        outcomes[0]!.startsWith('rejected') ? 'rejected' : 'published',
      );
      if (outcomes[0]!.startsWith('rejected')) expect(h.sims.x.published.filter((p) => p.text === caption)).toEqual([]);
    }
  });
});

describe('a post whose last result came in while the database failed', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    expect((await h.connect('x')).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is ended, and its summary said, by the next check', async () => {
    // Publishing runs on an instance whose every write of the post's outcome fails.
    await h.app.core.worker.stop();
    const flaky = coreWith(
      h,
      new StatementFault(
        1,
        (node) =>
          node.kind === 'UpdateQueryNode' && JSON.stringify(node).includes('"published"') && JSON.stringify(node).includes('"posts"'),
        100,
      ),
    );
    const postId = postIdOf((await h.run('U_ADA', 'post x Ended after all')).message.text);
    await decide(h.app.core, h, 'U_BOB', postId, 'approve');
    await flaky.worker.start();
    try {
      await h.chat.waitFor(() => h.chat.thread(approvalMessageId(h, postId)).find((t) => t.startsWith('X @acme: published')));
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await flaky.worker.stop();
    }
    expect(await postStatus(h, postId)).toBe('publishing');

    await h.app.core.cleanup.run();
    expect(await postStatus(h, postId)).toBe('published');
    expect(h.chat.thread(approvalMessageId(h, postId)).at(-1)).toBe(`Post ${postId}: published (1 of 1 published).`);
  });
});

describe('cancel', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    expect((await h.connect('x')).status).toBe(200);
    expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('names only the targets it cancelled: one whose publishing began a moment before is left to finish', async () => {
    const db = h.app.services.db;
    // No publishing here: the jobs stay queued until the race below.
    await h.app.core.worker.stop();
    const postId = postIdOf((await h.run('U_ADA', 'post x,facebook Stop most of it')).message.text);
    await decide(h.app.core, h, 'U_BOB', postId, 'approve');
    expect((await targetsHaveJobs(h, postId)).map((t) => t.status)).toEqual(['queued', 'queued']);

    // The X target starts publishing just as `cancel` writes: its update matches no row.
    if (onPostgres) {
      await sql`create function x_starts_publishing() returns trigger language plpgsql as $$
        begin
          if new.status = 'cancelled' and old.platform = 'x' then
            update post_targets set status = 'publishing' where id = old.id;
            return null;
          end if;
          return new;
        end $$`.execute(db);
      await sql`create trigger x_starts_publishing before update on post_targets for each row execute function x_starts_publishing()`.execute(
        db,
      );
    } else {
      await sql`create trigger x_starts_publishing before update of status on post_targets
        when new.status = 'cancelled' and old.platform = 'x'
        begin
          update post_targets set status = 'publishing' where id = old.id;
          select raise(ignore);
        end`.execute(db);
    }
    const reply = await h.run('U_ADA', `cancel ${postId}`);
    await sql`drop trigger x_starts_publishing ${onPostgres ? sql`on post_targets` : sql``}`.execute(db);

    expect(reply.message.text).toBe(`cancelled: Facebook Acme Inc of post ${postId}.`);
    const targets = await db
      .selectFrom('post_targets')
      .select(['platform', 'status'])
      .where('post_id', '=', postId)
      .orderBy('platform')
      .execute();
    expect(targets).toEqual([
      { platform: 'facebook', status: 'cancelled' },
      { platform: 'x', status: 'publishing' },
    ]);
    expect(h.chat.thread(approvalMessageId(h, postId))).toContain('cancelled by <@U_ADA>: Facebook Acme Inc.');
    // The post is still publishing (X's result will end it), never overwritten as cancelled.
    expect(await postStatus(h, postId)).toBe('approved');
  });
});

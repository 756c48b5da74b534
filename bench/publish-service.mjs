/**
 * The service side of bench/publish.mjs: IQSP from a built dist/ (IQSP_DIST, else ../dist/) in
 * a process of its own, so what the bench measures (time, resident memory) is the service's and
 * not the simulators'. Started by bench/publish.mjs with `node --expose-gc` and an IPC channel;
 * it answers the parent's requests ({ id, op, args } → { id, value } or { id, error }).
 *
 * Chat is in memory (the bench needs only the approval messages and the threads); platforms are
 * the parent's simulators, reached over loopback through the configuration the parent sends.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const distRaw = process.env.IQSP_DIST ?? new URL('../dist/', import.meta.url).href;
const dist = distRaw.startsWith('file:')
  ? new URL(distRaw.endsWith('/') ? distRaw : `${distRaw}/`)
  : pathToFileURL(`${path.resolve(distRaw)}/`);
const { startApp } = await import(new URL('app.js', dist).href);
const { loadConfig } = await import(new URL('config.js', dist).href);
const { createLogger } = await import(new URL('observability/logger.js', dist).href);
// The core's messages are rich text (segments); the bench reads them as plain text.
const { plainText } = await import(new URL('core/ports/rich-text.js', dist).href);

class BenchChat {
  chat = 'slack';
  next = 1;
  /** Approval messages by post id, and every message's text. */
  approvals = new Map();
  async sendPrivate() {}
  async sendFilePrivately() {}
  async postInChannel(workspaceExternalId, channelId, message) {
    const messageId = `m${this.next++}`;
    const postId = /^Post ([A-Z0-9]+) from/.exec(plainText(message.text))?.[1];
    if (postId) this.approvals.set(postId, { workspaceExternalId, messageId });
    return { workspaceExternalId, channelId, messageId };
  }
  async replyInThread(parent) {
    const messageId = `m${this.next++}`;
    return {
      workspaceExternalId: parent.workspaceExternalId,
      channelId: parent.channelId,
      messageId,
      threadId: parent.threadId ?? parent.messageId,
    };
  }
  async updateMessage() {}
}

const chat = new BenchChat();
let app;
let sampler;

const who = (workspace, user) => ({
  chat: 'slack',
  workspaceExternalId: workspace,
  workspaceName: `Bench ${workspace}`,
  userExternalId: user,
  userName: user,
  isAdmin: true,
  channelId: 'C1',
});

async function approve(postId) {
  const approval = chat.approvals.get(postId);
  if (!approval) throw new Error(`no approval message for ${postId}`);
  await app.core.posts.decide({
    chat: 'slack',
    workspaceExternalId: approval.workspaceExternalId,
    messageId: approval.messageId,
    userExternalId: 'U_APPROVER',
    isBot: false,
    decision: 'approve',
    via: 'reaction',
  });
}

async function waitForFinal(postIds, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await app.services.db
      .selectFrom('post_targets')
      .select('id')
      .where('post_id', 'in', postIds)
      .where('status', 'not in', ['published', 'failed', 'unconfirmed', 'cancelled'])
      .execute();
    if (open.length === 0) break;
    if (Date.now() > deadline) throw new Error(`${open.length} targets still open after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return app.services.db
    .selectFrom('post_targets')
    .select(['platform', 'status', 'failure_message'])
    .where('post_id', 'in', postIds)
    .execute();
}

const ops = {
  async start({ env, dir, attachmentHost }) {
    const config = loadConfig(env, dir);
    app = await startApp(config, createLogger('silent'), {
      surfaces: [() => ({ name: 'bench', port: chat, attachmentHosts: [attachmentHost] })],
      publisherTuning: { pollIntervalMs: 10, maxWaitMs: 120_000 },
      worker: { pollMs: 10 },
      // The bench sends hundreds of commands; the per-person command limit would refuse them.
      commandRateLimit: { limit: 1_000_000, windowMs: 60_000 },
    });
    return { pid: process.pid };
  },
  /** A command as `user` of `workspace`: the reply's plain text. */
  async command({ workspace, user, text, attachments = [] }) {
    const reply = await app.core.commands.runText(who(workspace, user), text, attachments);
    return plainText(reply.message.text);
  },
  /** Approves `postIds` one after the other, then waits until every target is final: the time and CPU time taken, and the targets. */
  async publish({ postIds, timeoutMs }) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (const id of postIds) await approve(id);
    const targets = await waitForFinal(postIds, timeoutMs);
    const { user, system } = process.cpuUsage(cpu);
    return { elapsedMs: performance.now() - started, cpuMs: (user + system) / 1000, targets };
  },
  /** Starts sampling resident memory, from its level at rest (after a full collection). */
  async sampleMemory() {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    global.gc?.();
    const idle = process.memoryUsage.rss();
    sampler = { idle, peak: idle, timer: setInterval(() => (sampler.peak = Math.max(sampler.peak, process.memoryUsage.rss())), 20) };
    return { idle };
  },
  async memoryPeak() {
    clearInterval(sampler.timer);
    sampler.peak = Math.max(sampler.peak, process.memoryUsage.rss());
    return { idle: sampler.idle, peak: sampler.peak };
  },
  async stop() {
    await app?.stop('bench over');
    setImmediate(() => process.exit(0));
    return {};
  },
};

process.on('message', async ({ id, op, args }) => {
  try {
    process.send({ id, value: await ops[op](args ?? {}) });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
process.send({ ready: true });

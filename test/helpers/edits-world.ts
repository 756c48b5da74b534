/**
 * The world the edit tests share (issue 16): the whole service with X @acme and the Facebook Page
 * connected by Ada and two approvals required, and a request helper that returns the post id.
 */
import { expect } from 'vitest';
import { startHarness, type Harness } from './harness.js';

export async function startEditsWorld(): Promise<Harness> {
  const h = await startHarness();
  expect((await h.connect('x', 'U_ADA')).status).toBe(200);
  expect((await h.connect('facebook', 'U_ADA', { pages: ['100000000000001'] })).status).toBe(200);
  await h.run('U_ADMIN', 'approvals 2', { isAdmin: true });
  return h;
}

/** `text` run by Ada; the id of the post it asked for (waiting, or scheduled). */
export async function requestPost(h: Harness, text: string): Promise<string> {
  const reply = await h.run('U_ADA', text);
  const postId = /Post ([A-Z0-9]+) is (?:waiting|scheduled)/.exec(String(reply.message.text))?.[1];
  if (!postId) throw new Error(`no post id in: ${String(reply.message.text)}`);
  return postId;
}

/**
 * Issue 13, finding 3 on the sandbox and the commands: a decision or a command on a post decides
 * or touches only posts of the workspace it comes from. The sandbox's button API takes any post
 * id in its body; `cancel`, `retry` and `status` take one typed by the person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxSurface } from '../../src/sandbox/surface.js';
import { foreignPostState, seedForeignPost, UNTOUCHED } from '../helpers/foreign-post.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ app: { surfaces: [createSandboxSurface({ published: () => [] })] } });
});
afterAll(async () => {
  await h?.close();
});

const db = () => h.app.services.db;

async function press(user: string, actionId: string, value: string): Promise<Response> {
  return fetch(`${h.base}/sandbox/api/button`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: h.base },
    body: JSON.stringify({ user, actionId, value }),
  });
}

describe('the sandbox button API', () => {
  it('an Approve naming a post of another workspace approves nothing and adds nobody there', async () => {
    const foreign = await seedForeignPost(db(), { chat: 'slack', workspaceExternalId: 'T-VICTIM' }, 'FOREIGNS');
    const answer = await press('bob', 'approve_post', foreign.postId);
    expect(answer.status).toBe(200);
    expect(await foreignPostState(db(), foreign)).toEqual(UNTOUCHED);
  });

  it('a Reject naming a post of a Discord server rejects nothing', async () => {
    const foreign = await seedForeignPost(db(), { chat: 'discord', workspaceExternalId: '777777777777777777' }, 'FOREIGNT');
    expect((await press('cara', 'reject_post', foreign.postId)).status).toBe(200);
    expect(await foreignPostState(db(), foreign)).toEqual(UNTOUCHED);
  });
});

describe('commands on a post id', () => {
  it('cancel, retry and status of a post of another workspace answer that there is no such post, and change nothing', async () => {
    const foreign = await seedForeignPost(db(), { chat: 'slack', workspaceExternalId: 'T-VICTIM2' }, 'FOREIGNC');
    for (const command of ['cancel', 'retry', 'status']) {
      const reply = await h.run('U_ADA', `${command} ${foreign.postId}`, { isAdmin: true });
      expect(reply.message.text, command).toMatch(/^There is no post FOREIGNC in this workspace/);
    }
    expect(await foreignPostState(db(), foreign)).toEqual(UNTOUCHED);
  });
});

/**
 * Issue 13, finding 3 on Slack: a button, a reaction or the post modal acts only on posts and
 * accounts of the workspace the request comes from, whatever post id, message ts or account id
 * the (signed) request carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoNow } from '../../../src/db/database.js';
import { ensureUser } from '../../../src/core/directory.js';
import { foreignPostState, seedForeignPost, UNTOUCHED } from '../../helpers/foreign-post.js';
import { SlackHarness } from './harness.js';

let h: SlackHarness;
beforeAll(async () => {
  h = await SlackHarness.start();
  await h.seedAccounts();
});
afterAll(async () => {
  await h?.close();
});

describe('decisions from T0001 on posts of other workspaces', () => {
  it('an Approve button whose value names a post of another workspace approves nothing', async () => {
    const foreign = await seedForeignPost(h.db, { chat: 'slack', workspaceExternalId: 'T-VICTIM' }, 'FOREIGN1');
    const response = await h.interactive('block-actions-button', {
      actions: [
        {
          action_id: 'approve_post',
          block_id: 'decide',
          type: 'button',
          value: foreign.postId,
          text: { type: 'plain_text', text: 'Approve' },
          action_ts: '1700000451.000001',
        },
      ],
    });
    expect(response.status).toBe(200);
    expect(await foreignPostState(h.db, foreign)).toEqual(UNTOUCHED);
  });

  it("a ✅ on a message ts another workspace's approval message has approves nothing", async () => {
    const foreign = await seedForeignPost(
      h.db,
      { chat: 'slack', workspaceExternalId: 'T-VICTIM3', channelId: 'C0GENERAL', approvalMessageId: '1700000000.000100' },
      'FOREIGN3',
    );
    const response = await h.event('event-reaction-added', { event_id: 'Ev0FOREIGN3' });
    expect(response.status).toBe(200);
    expect(await foreignPostState(h.db, foreign)).toEqual(UNTOUCHED);
  });

  it('the post modal refuses an account id of another workspace, and posts nothing', async () => {
    const foreign = await seedForeignPost(h.db, { chat: 'slack', workspaceExternalId: 'T-VICTIM4' }, 'FOREIGN4');
    const owner = await ensureUser(h.db, foreign.workspaceId, 'VICTIM-REQUESTER');
    const now = isoNow();
    await h.db
      .insertInto('social_accounts')
      .values({
        id: 'acct-victim',
        workspace_id: foreign.workspaceId,
        connected_by_id: owner,
        platform: 'x',
        platform_account_id: 'victim-x',
        platform_user_id: null,
        handle: 'victim',
        display_name: 'victim',
        avatar_url: null,
        scopes: null,
        status: 'active',
        status_reason: null,
        connected_at: now,
        updated_at: now,
      })
      .execute();
    const before = (await h.db.selectFrom('posts').select('id').execute()).length;
    const response = await h.interactive('view-submission-post', {
      view: {
        state: {
          values: {
            targets: {
              targets: {
                type: 'checkboxes',
                selected_options: [{ text: { type: 'plain_text', text: 'X @victim' }, value: 'acct-victim' }],
              },
            },
          },
        },
      },
    });
    expect(await response.json()).toEqual({
      response_action: 'errors',
      errors: { targets: 'An account you chose is no longer connected here; choose again.' },
    });
    expect((await h.db.selectFrom('posts').select('id').execute()).length).toBe(before);
    expect(h.published).toEqual([]);
  });
});

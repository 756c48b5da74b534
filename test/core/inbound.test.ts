/**
 * The inbound facade's rules, as plain functions: which button does what, which reaction decides
 * what, how a refusal reads; and the sandbox's workspace from before it was its own chat.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS, buttonAction, nothingPostedText } from '../../src/core/actions.js';
import { ensureWorkspace, moveWorkspaceChat } from '../../src/core/directory.js';
import { postFormProblemList, reactionDecision } from '../../src/core/inbound.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';

describe('buttons', () => {
  it.each([
    [ACTIONS.approvePost, { kind: 'decide', decision: 'approve' }],
    [ACTIONS.rejectPost, { kind: 'decide', decision: 'reject' }],
    [ACTIONS.confirmDeleteMyData, { kind: 'confirm-delete-my-data' }],
    ['connect_link', undefined],
    ['', undefined],
  ])('%j → %j', (actionId, action) => {
    expect(buttonAction(actionId)).toEqual(action);
  });

  it('keeps the ids the chats already carry on their messages', () => {
    expect(ACTIONS).toEqual({
      approvePost: 'approve_post',
      rejectPost: 'reject_post',
      editPost: 'edit_post',
      confirmDeleteMyData: 'delete_my_data_confirm',
    });
  });
});

describe('reactions', () => {
  it.each([
    ['approve', 'add', 'approve'],
    ['approve', 'remove', 'withdraw'],
    ['reject', 'add', 'reject'],
    ['reject', 'remove', undefined],
  ] as const)('%s %s → %s', (mark, change, decision) => {
    expect(reactionDecision(mark, change)).toBe(decision);
  });
});

describe('refusals', () => {
  it('lists the problems under one line', () => {
    expect(nothingPostedText(['a', 'b'])).toBe('Nothing was posted. Fix these and try again:\n• a\n• b');
  });

  it('lists the post form problems media first', () => {
    expect(postFormProblemList({ targets: ['t'], media: ['m'] })).toEqual(['m', 't']);
    expect(postFormProblemList({})).toEqual([]);
  });
});

describe('moveWorkspaceChat', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("moves the sandbox's old Slack workspace to the sandbox chat, keeping its id", async () => {
    t = await testDatabase();
    const id = await ensureWorkspace(t.db, 'slack', 'sandbox-team', 'Sandbox');
    await moveWorkspaceChat(t.db, 'sandbox-team', 'slack', 'sandbox');
    expect(await ensureWorkspace(t.db, 'sandbox', 'sandbox-team')).toBe(id);
    const rows = await t.db.selectFrom('workspaces').select(['chat', 'external_id']).execute();
    expect(rows).toEqual([{ chat: 'sandbox', external_id: 'sandbox-team' }]);
  });

  it('leaves both alone when the sandbox chat has the workspace already', async () => {
    t = await testDatabase();
    const old = await ensureWorkspace(t.db, 'slack', 'sandbox-team');
    const current = await ensureWorkspace(t.db, 'sandbox', 'sandbox-team');
    await moveWorkspaceChat(t.db, 'sandbox-team', 'slack', 'sandbox');
    expect(await ensureWorkspace(t.db, 'slack', 'sandbox-team')).toBe(old);
    expect(await ensureWorkspace(t.db, 'sandbox', 'sandbox-team')).toBe(current);
  });

  it('does nothing on a database without that workspace', async () => {
    t = await testDatabase();
    await moveWorkspaceChat(t.db, 'sandbox-team', 'slack', 'sandbox');
    expect(await t.db.selectFrom('workspaces').select('id').execute()).toEqual([]);
  });
});

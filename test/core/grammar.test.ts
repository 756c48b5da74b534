import { describe, expect, it } from 'vitest';
import { helpText, parseCommand } from '../../src/grammar.js';

const parsed = (text: string) => {
  const result = parseCommand(text);
  if (!result.ok) throw new Error(`expected "${text}" to parse, got: ${result.message}`);
  return result.command;
};
const refused = (text: string) => {
  const result = parseCommand(text);
  if (result.ok) throw new Error(`expected "${text}" to be refused`);
  return result.message;
};

describe('chat grammar', () => {
  it('parses every command of the contract', () => {
    expect(parsed('help')).toEqual({ kind: 'help' });
    expect(parsed('')).toEqual({ kind: 'help' });
    expect(parsed('connect X')).toEqual({ kind: 'connect', platform: 'x' });
    expect(parsed('accounts')).toEqual({ kind: 'accounts' });
    expect(parsed('status p7k3f9')).toEqual({ kind: 'status', postId: 'P7K3F9' });
    expect(parsed('cancel P7K3F9')).toEqual({ kind: 'cancel', postId: 'P7K3F9' });
    expect(parsed('retry P7K3F9')).toEqual({ kind: 'retry', postId: 'P7K3F9' });
    expect(parsed('disconnect instagram')).toEqual({ kind: 'disconnect', platform: 'instagram' });
    expect(parsed('disconnect x @acme')).toEqual({ kind: 'disconnect', platform: 'x', handle: 'acme' });
    expect(parsed('data')).toEqual({ kind: 'data' });
    expect(parsed('delete-my-data')).toEqual({ kind: 'delete-my-data', confirmed: false });
    expect(parsed('delete-my-data confirm')).toEqual({ kind: 'delete-my-data', confirmed: true });
    expect(parsed('approvers')).toEqual({ kind: 'approvers', action: 'list' });
    expect(parsed('approvers add <@U1> <@U2|bob> <@!33>')).toEqual({
      kind: 'approvers',
      action: 'add',
      users: [{ userId: 'U1' }, { userId: 'U2' }, { userId: '33' }],
    });
    expect(parsed('approvers remove <@U1>')).toEqual({ kind: 'approvers', action: 'remove', users: [{ userId: 'U1' }] });
    expect(parsed('approvals 2')).toEqual({ kind: 'approvals', count: 2 });
    expect(parsed('approvals 0')).toEqual({ kind: 'approvals', count: 0 });
    expect(parsed('audit')).toEqual({ kind: 'audit' });
  });

  it('parses post targets: platforms, handles, all, TikTok privacy; the caption keeps its case and lines', () => {
    expect(parsed('post x,instagram,@acme,tiktok:public Hello World\nsecond line')).toEqual({
      kind: 'post',
      targets: [
        { kind: 'platform', platform: 'x', option: undefined },
        { kind: 'platform', platform: 'instagram', option: undefined },
        { kind: 'handle', handle: 'acme', option: undefined },
        { kind: 'platform', platform: 'tiktok', option: 'public' },
      ],
      caption: 'Hello World\nsecond line',
    });
    expect(parsed('post all "Quoted caption"')).toEqual({ kind: 'post', targets: [{ kind: 'all' }], caption: 'Quoted caption' });
    expect(parsed('POST x')).toEqual({ kind: 'post', targets: [{ kind: 'platform', platform: 'x', option: undefined }], caption: '' });
  });

  it('refuses what it cannot parse with a message that names the problem', () => {
    expect(refused('frobnicate')).toBe('I don\'t know the command "frobnicate". Type `help` for the commands.');
    expect(refused('connect myspace')).toMatch(/"myspace" is not a platform IQSP knows. Choose one of: facebook, instagram, x, tiktok/);
    expect(refused('connect')).toMatch(/Which platform\?/);
    expect(refused('post')).toMatch(/What should be posted/);
    expect(refused('post linkedin hi')).toMatch(/"linkedin" is not a platform or an @handle/);
    expect(refused('post x:a:b hi')).toMatch(/"x:a:b" is not a target/);
    expect(refused('status')).toMatch(/Which post\?/);
    expect(refused('status ../../etc')).toMatch(/is not a post id/);
    expect(refused('approvals many')).toMatch(/whole number from 0 to 50/);
    expect(refused('approvals 51')).toMatch(/whole number from 0 to 50/);
    expect(refused('approvers add bob')).toMatch(/"bob" is not a user mention/);
    expect(refused('approvers promote <@U1>')).toMatch(/add or remove/);
    expect(refused('delete-my-data now')).toMatch(/delete-my-data confirm/);
  });

  it('never throws, whatever the input', () => {
    for (const input of ['\u0000', 'post ,,,', 'post @', 'post @@@ x', '  ', 'connect x y', 'status a b', '💥'.repeat(1000)]) {
      expect(() => parseCommand(input)).not.toThrow();
    }
  });

  it('help lists every command and the enabled platforms', () => {
    const text = helpText(['X', 'TikTok']);
    for (const word of [
      'connect',
      'accounts',
      'post',
      'status',
      'cancel',
      'retry',
      'disconnect',
      'data',
      'delete-my-data',
      'approvers',
      'approvals',
    ])
      expect(text).toContain(`/iqsp ${word}`);
    expect(text).toContain('Platforms enabled here: X, TikTok.');
    expect(helpText([])).toMatch(/No platform is enabled/);
  });
});

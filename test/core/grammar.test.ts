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
    expect(parsed('verify p7k3f9')).toEqual({ kind: 'verify', postId: 'P7K3F9' });
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
    expect(refused('post myspace hi')).toMatch(/"myspace" is not a platform or an @handle/);
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

  it('help lists the scheduling commands and the forms of <when>', () => {
    const text = helpText(['X']);
    for (const word of ['scheduled', 'reschedule <post-id> <when|now>', 'timezone', 'slots']) expect(text).toContain(`/iqsp ${word}`);
    expect(text).toContain('at YYYY-MM-DD HH:MM, at HH:MM, tomorrow HH:MM, in 90m, in 2h, in 3d, next');
  });
});

describe('chat grammar: scheduling (issue 15)', () => {
  const x = { kind: 'platform', platform: 'x', option: undefined };

  it('post <targets> <when> <caption>: every form of <when> after the targets', () => {
    expect(parsed('post x,instagram at 2026-12-07 09:30 Launch day!')).toEqual({
      kind: 'post',
      targets: [x, { kind: 'platform', platform: 'instagram', option: undefined }],
      when: { kind: 'at', date: { year: 2026, month: 12, day: 7 }, time: { hour: 9, minute: 30 } },
      caption: 'Launch day!',
    });
    // Targets separated by spaces (contract §4), then the when.
    expect(parsed('post all tiktok:public in 2h Hi')).toEqual({
      kind: 'post',
      targets: [{ kind: 'all' }, { kind: 'platform', platform: 'tiktok', option: 'public' }],
      when: { kind: 'in', minutes: 120 },
      caption: 'Hi',
    });
    expect(parsed('post x next Hello')).toEqual({ kind: 'post', targets: [x], when: { kind: 'next' }, caption: 'Hello' });
    expect(parsed('post x @acme at 09:30 Hi')).toMatchObject({ when: { kind: 'at', time: { hour: 9, minute: 30 } }, caption: 'Hi' });
    expect(parsed('post x tomorrow 09:30 Hi')).toMatchObject({ when: { kind: 'tomorrow', time: { hour: 9, minute: 30 } }, caption: 'Hi' });
    expect(parsed('post x in 90m "Quoted caption"')).toMatchObject({ when: { kind: 'in', minutes: 90 }, caption: 'Quoted caption' });
    expect(parsed('post x in 3d')).toEqual({ kind: 'post', targets: [x], when: { kind: 'in', minutes: 4320 }, caption: '' });
  });

  it('the caption after a when keeps its case and line breaks', () => {
    expect(parsed('post x at 09:30 First line\nSecond LINE\n\nthird')).toMatchObject({ caption: 'First line\nSecond LINE\n\nthird' });
    expect(parsed('post x at 09:30\nFirst line\nsecond')).toMatchObject({ caption: 'First line\nsecond' });
  });

  it('words that do not read as a time are caption; time-shaped mistakes are refused, naming them', () => {
    for (const caption of ['at last we launch', 'in the morning', 'tomorrow is the day', 'now or never'])
      expect(parsed(`post x ${caption}`)).toEqual({ kind: 'post', targets: [x], caption });
    expect(refused('post x at 25:00 Hi')).toMatch(/^"25:00" is not a time of day\./);
    expect(refused('post x at 2026-02-30 09:00 Hi')).toMatch(/^"2026-02-30" is not a date\./);
    expect(refused('post all tiktok:public at 9pm Hi')).toMatch(/"9pm"/);
    // A quoted caption is all caption, time-shaped or not.
    expect(parsed('post x "in 2h we launch"')).toEqual({ kind: 'post', targets: [x], caption: 'in 2h we launch' });
    expect(parsed('post x at 09:30 "next, the launch"')).toMatchObject({ when: { kind: 'at' }, caption: 'next, the launch' });
  });

  it('scheduled and reschedule', () => {
    expect(parsed('scheduled')).toEqual({ kind: 'scheduled' });
    expect(parsed('reschedule abc1234 now')).toEqual({ kind: 'reschedule', postId: 'ABC1234', when: { kind: 'now' } });
    expect(parsed('reschedule ABC1234 at 2026-12-07 09:30')).toEqual({
      kind: 'reschedule',
      postId: 'ABC1234',
      when: { kind: 'at', date: { year: 2026, month: 12, day: 7 }, time: { hour: 9, minute: 30 } },
    });
    expect(parsed('reschedule ABC1234 tomorrow 09:30')).toMatchObject({ when: { kind: 'tomorrow', time: { hour: 9, minute: 30 } } });
    expect(parsed('reschedule ABC1234 in 2h')).toMatchObject({ when: { kind: 'in', minutes: 120 } });
    expect(parsed('reschedule ABC1234 90m')).toMatchObject({ when: { kind: 'in', minutes: 90 } });
    expect(parsed('reschedule ABC1234 next')).toMatchObject({ when: { kind: 'next' } });
    expect(refused('reschedule')).toMatch(/^Which post, and when\?/);
    expect(refused('reschedule ../etc now')).toMatch(/^Which post, and when\?/);
    expect(refused('reschedule ABC1234')).toMatch(/^When should post ABC1234 go out\?/);
    expect(refused('reschedule ABC1234 whenever')).toMatch(/^"whenever" is not a time/);
    expect(refused('reschedule ABC1234 at 25:00')).toMatch(/^"25:00" is not a time of day/);
  });

  it('timezone: show or set the caller’s, or the workspace’s; a zone IQSP does not know is refused', () => {
    expect(parsed('timezone')).toEqual({ kind: 'timezone', scope: 'person' });
    expect(parsed('timezone Europe/Berlin')).toEqual({ kind: 'timezone', scope: 'person', zone: 'Europe/Berlin' });
    expect(parsed('timezone europe/berlin')).toEqual({ kind: 'timezone', scope: 'person', zone: 'Europe/Berlin' });
    expect(parsed('timezone Asia/Kolkata')).toEqual({ kind: 'timezone', scope: 'person', zone: 'Asia/Kolkata' });
    expect(parsed('timezone UTC')).toEqual({ kind: 'timezone', scope: 'person', zone: 'UTC' });
    expect(parsed('timezone workspace')).toEqual({ kind: 'timezone', scope: 'workspace' });
    expect(parsed('timezone workspace Asia/Tokyo')).toEqual({ kind: 'timezone', scope: 'workspace', zone: 'Asia/Tokyo' });
    expect(parsed('TIMEZONE Workspace asia/tokyo')).toEqual({ kind: 'timezone', scope: 'workspace', zone: 'Asia/Tokyo' });
    expect(refused('timezone Mars/Base')).toBe(
      '"Mars/Base" is not a time zone IQSP knows. Use an IANA name such as Europe/Berlin, America/New_York or UTC.',
    );
    expect(refused('timezone workspace Mars/Base')).toMatch(/^"Mars\/Base" is not a time zone IQSP knows/);
    expect(refused('timezone Europe/Berlin Asia/Tokyo')).toMatch(/^timezone takes one zone/);
  });

  it('timezone refuses the abbreviations that are fixed offsets in the IANA database (EST is Panama’s clock, without daylight saving)', () => {
    expect(refused('timezone EST')).toBe(
      '"EST" is a fixed offset from UTC that never changes for daylight saving. Use the name of a place, such as America/New_York.',
    );
    expect(refused('timezone workspace MST')).toMatch(/^"MST" is a fixed offset/);
  });

  it('slots: set, show, off', () => {
    expect(parsed('slots mon-fri 09:00,13:00')).toEqual({
      kind: 'slots',
      action: 'set',
      slots: { days: [1, 2, 3, 4, 5], times: ['09:00', '13:00'] },
    });
    expect(parsed('slots')).toEqual({ kind: 'slots', action: 'show' });
    expect(parsed('slots off')).toEqual({ kind: 'slots', action: 'off' });
    expect(parsed('slots OFF')).toEqual({ kind: 'slots', action: 'off' });
    // Blanks after commas, as people type lists (Discord's options are read the same way).
    expect(parsed('slots mon-fri 09:00, 13:00')).toEqual({
      kind: 'slots',
      action: 'set',
      slots: { days: [1, 2, 3, 4, 5], times: ['09:00', '13:00'] },
    });
    expect(parsed('slots mon, wed 9:00')).toEqual({ kind: 'slots', action: 'set', slots: { days: [1, 3], times: ['09:00'] } });
    expect(refused('slots mon-fri')).toMatch(/^slots takes days and times/);
    expect(refused('slots funday 09:00')).toMatch(/^"funday" is not a day/);
    expect(refused('slots mon-fri 25:00')).toMatch(/^"25:00" is not a time of day/);
    expect(refused('slots mon-fri 09:00 13:00')).toMatch(/^slots takes days and times/);
  });
});

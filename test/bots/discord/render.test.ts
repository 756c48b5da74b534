/** The pure parts of the Discord surface: rendering, custom ids, slash options → commands, the invite. */
import { readFileSync } from 'node:fs';
import { ButtonStyle } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { mention, rich } from '../../../src/core/ports/rich-text.js';
import { BOT_PERMISSIONS, inviteUrl } from '../../../src/bots/discord/client.js';
import { commandFromOptions, type SlashOptions } from '../../../src/bots/discord/commands.js';
import {
  decodeCustomId,
  encodeCustomId,
  escapeMaskedLinks,
  newMessage,
  renderMessage,
  threadName,
  toDiscordMarkdown,
} from '../../../src/bots/discord/render.js';

function options(subcommand: string, values: Record<string, string | number | boolean> = {}): SlashOptions {
  return {
    getSubcommand: () => subcommand,
    getString: (name) => (typeof values[name] === 'string' ? values[name] : null),
    getInteger: (name) => (typeof values[name] === 'number' ? values[name] : null),
    getBoolean: (name) => (typeof values[name] === 'boolean' ? values[name] : null),
  };
}

describe('rendering for Discord', () => {
  it('turns the core’s *bold* into Discord’s **bold**, leaving bullets and code alone', () => {
    expect(toDiscordMarkdown('*Connected accounts*\n• X @acme — `token ok`')).toBe('**Connected accounts**\n• X @acme — `token ok`');
    expect(toDiscordMarkdown('2 * 3 * 4')).toBe('2 * 3 * 4');
  });

  it('puts text past 2000 characters into an embed description instead of cutting it', () => {
    const long = 'x'.repeat(2500);
    expect(renderMessage({ text: long })).toEqual({
      content: null,
      embeds: [{ description: long }],
      components: [],
      allowedMentions: { parse: [], users: [], repliedUser: false },
    });
  });

  it('renders buttons as one row; URL values become link buttons', () => {
    const rendered = newMessage({
      text: 'Pick',
      buttons: [
        { actionId: 'open_connect_link', label: 'Connect X', value: 'https://iqsp.example/connect/abc', style: 'primary' },
        { actionId: 'reject_post', label: 'Reject', value: 'ABC1234', style: 'danger' },
      ],
    });
    expect(rendered.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, style: ButtonStyle.Link, label: 'Connect X', url: 'https://iqsp.example/connect/abc' },
          { type: 2, style: ButtonStyle.Danger, label: 'Reject', custom_id: 'reject_post:ABC1234' },
        ],
      },
    ]);
  });

  it('escapes masked links in linear time and lets content ping only the people it names', () => {
    expect(escapeMaskedLinks('[a] `[b]` \\[Approve](https://evil) (x)')).toBe('\\[a] `\\[b]` \\\\\\[Approve](https://evil) (x)');
    expect(escapeMaskedLinks('[add|remove @user…]')).toBe('[add|remove @user…]');
    const named = renderMessage({ text: rich`Hi ${mention('123')} and ${mention('456')}, not @everyone or <@&789> or a typed <@!999>` });
    expect(named.content).toBe('Hi <@123> and <@456>, not @everyone or <@&789> or a typed <@!999>');
    expect(named.allowedMentions).toEqual({ parse: [], users: ['123', '456'], repliedUser: false });
  });

  it('round-trips a custom id', () => {
    expect(decodeCustomId(encodeCustomId('approve_post', 'ABC1234'))).toEqual({ actionId: 'approve_post', value: 'ABC1234' });
  });

  it('names a thread after the post, or after the first line without mentions', () => {
    expect(threadName({ content: '', embeds: [{ description: 'x', fields: [{ name: 'Post', value: 'ABC1234' }] }] })).toBe('Post ABC1234');
    expect(threadName({ content: '*Hello* <@123> there\nmore', embeds: [] })).toBe('Hello there');
  });
});

describe('slash options → commands', () => {
  it('builds post from its typed options, applying tiktok_privacy to a bare tiktok target', () => {
    expect(commandFromOptions(options('post', { targets: 'x, tiktok', caption: '"Quoted" stays', tiktok_privacy: 'friends' }))).toEqual({
      ok: true,
      command: {
        kind: 'post',
        targets: [
          { kind: 'platform', platform: 'x', option: undefined },
          { kind: 'platform', platform: 'tiktok', option: 'friends' },
        ],
        caption: '"Quoted" stays',
      },
    });
  });

  it('parses the others with the chat grammar', () => {
    expect(commandFromOptions(options('disconnect', { platform: 'x', handle: '@acme' }))).toEqual({
      ok: true,
      command: { kind: 'disconnect', platform: 'x', handle: 'acme' },
    });
    expect(commandFromOptions(options('approvers', { action: 'add', users: '<@1> <@2>' }))).toEqual({
      ok: true,
      command: { kind: 'approvers', action: 'add', users: [{ userId: '1' }, { userId: '2' }] },
    });
    expect(commandFromOptions(options('approvers', { users: '<@1>' }))).toMatchObject({ ok: false });
    expect(commandFromOptions(options('delete-my-data', { confirm: true }))).toEqual({
      ok: true,
      command: { kind: 'delete-my-data', confirmed: true },
    });
    expect(commandFromOptions(options('approvals', { count: 3 }))).toEqual({ ok: true, command: { kind: 'approvals', count: 3 } });
    expect(commandFromOptions(options('status', { post_id: 'abc1234' }))).toEqual({
      ok: true,
      command: { kind: 'status', postId: 'ABC1234' },
    });
  });
});

describe('the invite', () => {
  it('asks for the permissions the README lists, with the bot and applications.commands scopes', () => {
    expect(String(BOT_PERMISSIONS)).toBe('309237763136');
    expect(inviteUrl('APP_ID')).toBe(
      'https://discord.com/oauth2/authorize?client_id=APP_ID&scope=bot+applications.commands&permissions=309237763136',
    );
    const docs = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(docs).toContain(inviteUrl('APP_ID'));
  });
});

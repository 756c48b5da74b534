/**
 * `iqsp slack manifest`: the YAML is exactly the reviewed fixture for a PUBLIC_URL, and parsed
 * back (with a reader for the block-style YAML subset the manifest uses) it has every URL,
 * scope, event and the command the Slack surface needs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SLACK_BOT_EVENTS, SLACK_BOT_SCOPES, slackManifest, slackManifestObject } from '../../../src/bots/slack/manifest.js';

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

function parseScalar(text: string): Value {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (/^[[{&*!|>'%@`]/.test(text) || /: |\s#/.test(text)) throw new Error(`not a plain scalar in this subset: ${text}`);
  return text;
}

/** Block-style YAML: maps, lists of scalars, lists of maps; scalars plain or double-quoted. */
function parseYaml(source: string): Value {
  const lines = source.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  let i = 0;
  const indentOf = (line: string) => line.length - line.trimStart().length;

  function block(indent: number): Value {
    const first = lines[i]!;
    if (first.trimStart().startsWith('- ')) {
      const list: Value[] = [];
      while (i < lines.length && indentOf(lines[i]!) === indent && lines[i]!.trimStart().startsWith('- ')) {
        const item = lines[i]!.trimStart().slice(2);
        if (/^[A-Za-z_][\w.-]*:( |$)/.test(item)) {
          // A map inside a list: the dash stands for two columns of indentation.
          lines[i] = `${' '.repeat(indent + 2)}${item}`;
          list.push(block(indent + 2));
        } else {
          list.push(parseScalar(item));
          i += 1;
        }
      }
      return list;
    }
    const map: { [key: string]: Value } = {};
    while (i < lines.length && indentOf(lines[i]!) === indent && !lines[i]!.trimStart().startsWith('- ')) {
      const match = /^([A-Za-z_][\w.-]*):(?: (.*))?$/.exec(lines[i]!.trim());
      if (!match) throw new Error(`line ${i + 1} is not "key: value": ${lines[i]}`);
      i += 1;
      if (match[2] !== undefined) map[match[1]!] = parseScalar(match[2]);
      else {
        const next = lines[i];
        if (next === undefined || indentOf(next) <= indent) throw new Error(`"${match[1]}" has no value`);
        map[match[1]!] = block(indentOf(next));
      }
      if (i < lines.length && indentOf(lines[i]!) > indent) throw new Error(`unexpected indentation at line ${i + 1}: ${lines[i]}`);
    }
    return map;
  }

  const value = block(0);
  if (i !== lines.length) throw new Error(`unparsed from line ${i + 1}: ${lines[i]}`);
  return value;
}

describe('slackManifest', () => {
  const yaml = slackManifest('https://iqsp.example.com/');

  it('is the reviewed manifest for a PUBLIC_URL', () => {
    expect(yaml).toBe(readFileSync(new URL('../../fixtures/slack/manifest.yaml', import.meta.url), 'utf8'));
  });

  it('parses back to the manifest object', () => {
    expect(parseYaml(yaml)).toEqual(slackManifestObject('https://iqsp.example.com'));
  });

  it('points the command, events and interactivity at /slack/events and OAuth at /slack/oauth_redirect', () => {
    const manifest = parseYaml(slackManifest('https://social.acme.test')) as {
      features: { slash_commands: Array<{ command: string; url: string; should_escape: boolean }> };
      oauth_config: { redirect_urls: string[]; scopes: { bot: string[] } };
      settings: {
        event_subscriptions: { request_url: string; bot_events: string[] };
        interactivity: { is_enabled: boolean; request_url: string };
        socket_mode_enabled: boolean;
      };
    };
    const events = 'https://social.acme.test/slack/events';
    expect(manifest.features.slash_commands).toEqual([expect.objectContaining({ command: '/iqsp', url: events, should_escape: true })]);
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: events });
    expect(manifest.settings.event_subscriptions.request_url).toBe(events);
    expect(manifest.oauth_config.redirect_urls).toEqual(['https://social.acme.test/slack/oauth_redirect']);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.oauth_config.scopes.bot).toEqual([...SLACK_BOT_SCOPES]);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual([...SLACK_BOT_EVENTS]);
  });

  it('asks for every scope the surface uses and subscribes to every event it handles', () => {
    for (const scope of [
      'commands',
      'chat:write',
      'reactions:read',
      'files:read',
      'files:write',
      'im:write',
      'users:read',
      'app_mentions:read',
      'channels:history',
      'groups:history',
      'im:history',
    ])
      expect(SLACK_BOT_SCOPES).toContain(scope);
    for (const event of [
      'app_home_opened',
      'app_mention',
      'message.channels',
      'message.groups',
      'message.im',
      'reaction_added',
      'reaction_removed',
      'app_uninstalled',
      'tokens_revoked',
    ])
      expect(SLACK_BOT_EVENTS).toContain(event);
  });

  it('turns the Home tab on, for the upcoming posts published on app_home_opened', () => {
    const manifest = parseYaml(yaml) as { features: { app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean } } };
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    expect(SLACK_BOT_EVENTS).toContain('app_home_opened');
  });

  it('quotes what YAML would otherwise misread', () => {
    expect(yaml).toContain('background_color: "#1d1f23"');
    expect(yaml).toMatch(/usage_hint: "help \| connect <platform>/);
    expect(parseYaml('a: "yes"\nb: yes-no\n')).toEqual({ a: 'yes', b: 'yes-no' });
  });
});

/**
 * Slash commands over HTTP run without Bolt's middleware (issue 19, slash-command.ts): the bot
 * token is asked of `authorize` with what Bolt would have given it, and a workspace that cannot
 * be authorised runs nothing and says why in the log (without the command's secrets).
 */
import type { AuthorizeSourceData, SlashCommand } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import type { ListenerDependencies } from '../../../src/bots/slack/context.js';
import { slashCommandRunner } from '../../../src/bots/slack/slash-command.js';

function command(fields: Partial<SlashCommand>): SlashCommand {
  return {
    token: 'legacy-verification-token',
    command: '/iqsp',
    text: 'help',
    response_url: 'https://hooks.slack.com/commands/T0ORG/1/secret-part',
    trigger_id: '1.2.3',
    user_id: 'U0ANA',
    user_name: 'ana',
    team_id: 'T0ORG',
    team_domain: 'org',
    channel_id: 'C0GEN',
    channel_name: 'general',
    api_app_id: 'A0IQSP',
    ...fields,
  };
}

it('asks authorize as Bolt does, an org-wide install included, and runs nothing for a workspace it cannot authorise', async () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  const asked: AuthorizeSourceData<boolean>[] = [];
  const run = slashCommandRunner(
    { logger } as unknown as ListenerDependencies,
    (source) => {
      asked.push(source);
      return Promise.reject(new Error(`IQSP has no bot token for Slack workspace ${source.teamId}`));
    },
    () => new WebClient(undefined, { slackApiUrl: 'http://127.0.0.1:9/api/' }),
  );
  await run(command({ enterprise_id: 'E0GRID', is_enterprise_install: 'true' }));
  await run(command({ team_id: 'T0404' }));
  expect(asked).toEqual([
    { teamId: 'T0ORG', enterpriseId: 'E0GRID', userId: 'U0ANA', conversationId: 'C0GEN', isEnterpriseInstall: true },
    { teamId: 'T0404', enterpriseId: undefined, userId: 'U0ANA', conversationId: 'C0GEN', isEnterpriseInstall: false },
  ]);
  const logged = lines.map((line) => JSON.parse(line) as { msg: string; teamId?: string });
  expect(logged.map((l) => [l.msg, l.teamId])).toEqual([
    ['a Slack command was not run: its workspace could not be authorised', 'T0ORG'],
    ['a Slack command was not run: its workspace could not be authorised', 'T0404'],
  ]);
  expect(lines.join('\n')).not.toMatch(/secret-part|legacy-verification-token/);
});

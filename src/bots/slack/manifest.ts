/**
 * `iqsp slack manifest`: the Slack app manifest (YAML) for this service at PUBLIC_URL — every
 * scope, event, the /iqsp command, interactivity and the OAuth redirect. Pasting it into
 * "Create New App → From an app manifest" sets the whole app up (README.md, "The Slack app").
 */
import { publishesToList } from '../../publishers/registry.js';

/**
 * Bot scopes and why each is needed. The install flow asks for exactly these.
 * - commands: /iqsp
 * - chat:write, chat:write.public: approval messages, thread replies, ephemeral answers (also in public channels the app was not added to)
 * - app_mentions:read, channels:history, groups:history, im:history: commands in messages that mention the bot, and direct messages
 * - reactions:read: ✅/❌ on approval messages
 * - files:read: downloading the media of a post (modal uploads and message files)
 * - files:write: the `data` export, uploaded to the user's DM
 * - im:write: opening that DM
 * - users:read: who is a workspace admin or owner, and their profile's time zone (users.info)
 */
export const SLACK_BOT_SCOPES = [
  'app_mentions:read',
  'channels:history',
  'chat:write',
  'chat:write.public',
  'commands',
  'files:read',
  'files:write',
  'groups:history',
  'im:history',
  'im:write',
  'reactions:read',
  'users:read',
] as const;

/** Events the app subscribes to (as the bot). */
export const SLACK_BOT_EVENTS = [
  // The Home tab: the workspace's upcoming posts, published when a person opens it (no scope needed).
  'app_home_opened',
  'app_mention',
  'app_uninstalled',
  'message.channels',
  'message.groups',
  'message.im',
  'reaction_added',
  'reaction_removed',
  'tokens_revoked',
] as const;

export const SLACK_COMMAND = '/iqsp';

type Yaml = string | number | boolean | readonly Yaml[] | { readonly [key: string]: Yaml };

/**
 * `policies`: where the privacy policy and terms are (PRIVACY_POLICY_URL, TERMS_URL), default this
 * install's /privacy and /terms. The manifest has no field for them (the Marketplace listing asks
 * for them in the app settings), so the long description names them, for people and reviewers.
 */
export function slackManifestObject(
  publicUrl: string,
  policies: { privacy?: string | undefined; terms?: string | undefined } = {},
): { [key: string]: Yaml } {
  const base = publicUrl.replace(/\/+$/, '');
  const events = `${base}/slack/events`;
  const privacy = policies.privacy ?? `${base}/privacy`;
  const terms = policies.terms ?? `${base}/terms`;
  return {
    _metadata: { major_version: 1, minor_version: 1 },
    display_information: {
      name: 'IQSP',
      description: `Publish to ${publishesToList()} from Slack, with team approval.`,
      background_color: '#1d1f23',
      long_description:
        `IQSP lets your team publish to ${publishesToList()} from Slack. Ask for a post with /iqsp post, ` +
        'teammates approve it with a reaction, and IQSP publishes it to every account chosen and replies in the thread with a link to each live post. ' +
        'Accounts are connected with each platform’s own sign-in (never a password) and their tokens are stored encrypted. ' +
        `Privacy policy: ${privacy} Terms of service: ${terms}`,
    },
    features: {
      app_home: { home_tab_enabled: true, messages_tab_enabled: true, messages_tab_read_only_enabled: false },
      bot_user: { display_name: 'IQSP', always_online: true },
      slash_commands: [
        {
          command: SLACK_COMMAND,
          url: events,
          description: 'Connect accounts and publish posts with team approval',
          usage_hint: 'help | connect <platform> | post <targets> <caption> | status <post-id>',
          // Mentions arrive as <@U…> (approvers add @someone), and links as Slack sends them.
          should_escape: true,
        },
      ],
    },
    oauth_config: {
      redirect_urls: [`${base}/slack/oauth_redirect`],
      scopes: { bot: [...SLACK_BOT_SCOPES] },
    },
    settings: {
      event_subscriptions: { request_url: events, bot_events: [...SLACK_BOT_EVENTS] },
      interactivity: { is_enabled: true, request_url: events },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    },
  };
}

const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  const plain =
    /^[A-Za-z0-9/][A-Za-z0-9 _./:@,()-]*$/.test(value) && !/: |\s$/.test(value) && !RESERVED.test(value) && !/^[-+]?\d/.test(value);
  return plain ? value : JSON.stringify(value);
}

function isScalar(value: Yaml): value is string | number | boolean {
  return typeof value !== 'object';
}

/** A small YAML writer for the manifest's shapes: nested maps, lists of scalars, lists of maps. */
export function toYaml(value: { readonly [key: string]: Yaml }, indent = 0): string {
  const pad = ' '.repeat(indent);
  let out = '';
  for (const [key, item] of Object.entries(value)) {
    if (isScalar(item)) out += `${pad}${key}: ${scalar(item)}\n`;
    else if (Array.isArray(item)) {
      out += `${pad}${key}:\n`;
      for (const entry of item as readonly Yaml[]) {
        if (isScalar(entry)) out += `${pad}  - ${scalar(entry)}\n`;
        else {
          const nested = toYaml(entry as { readonly [key: string]: Yaml }, indent + 4);
          out += `${pad}  - ${nested.slice(indent + 4)}`;
        }
      }
    } else out += `${pad}${key}:\n${toYaml(item as { readonly [key: string]: Yaml }, indent + 2)}`;
  }
  return out;
}

export function slackManifest(publicUrl: string, policies: { privacy?: string | undefined; terms?: string | undefined } = {}): string {
  return toYaml(slackManifestObject(publicUrl, policies));
}

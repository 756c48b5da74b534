/** The types of chat-fakes.mjs, for the tests that use it. */
export interface ChatFakes {
  counts: { slack: number; discordRest: number; identifies: number };
  /** SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL, DISCORD_TOKEN, DISCORD_APPLICATION_ID, DISCORD_API_URL. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export function startChatFakes(): Promise<ChatFakes>;

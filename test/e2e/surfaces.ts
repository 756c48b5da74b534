/** Every chat surface the contract suites run through (`for (const surface of SURFACES) describe(...)`). */
import type { ChatSurface } from './chat-surface.js';
import { DiscordSurface } from './discord-surface.js';
import { SlackSurface } from './slack-surface.js';

export const SURFACES: ReadonlyArray<{ kind: string; start: () => Promise<ChatSurface> }> = [
  { kind: 'Slack', start: () => SlackSurface.start() },
  { kind: 'Discord', start: () => DiscordSurface.start() },
];

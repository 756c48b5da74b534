/**
 * Every chat surface this code base has. `serve` builds each; a surface whose configuration
 * is absent returns undefined and stays off (the start-up log says which are on).
 *
 * Each is loaded only when configured: Bolt and discord.js take most of a second to load,
 * which every other command (`iqsp keygen`, `migrate`, `cleanup`) and an instance without
 * that chat would otherwise pay.
 */
import type { SurfaceFactory } from './surface.js';

export const SURFACES: readonly SurfaceFactory[] = [
  async (context) => (context.config.slack.enabled ? (await import('./slack/index.js')).createSlackSurface(context) : undefined),
  async (context) => (context.config.discord.enabled ? (await import('./discord/index.js')).createDiscordSurface(context) : undefined),
];

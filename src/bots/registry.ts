/**
 * Every chat surface this code base has. `serve` builds each; a surface whose configuration
 * is absent returns undefined and stays off (the start-up log says which are on).
 */
import { createDiscordSurface } from './discord/index.js';
import { createSlackSurface } from './slack/index.js';
import type { SurfaceFactory } from './surface.js';

export const SURFACES: readonly SurfaceFactory[] = [createSlackSurface, createDiscordSurface];

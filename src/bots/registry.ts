/**
 * Every chat surface this code base has. `serve` builds each; a surface whose configuration
 * is absent returns undefined and stays off (the start-up log says which are on).
 */
import type { SurfaceFactory } from './surface.js';

export const SURFACES: readonly SurfaceFactory[] = [];

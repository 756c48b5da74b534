/** What the sandbox page shows of the simulated platforms: every post they have published (each platform's simulator says how). */
import type { Simulators } from '../simulators/index.js';
import type { SandboxPlatforms } from './surface.js';

export function simulatedPlatforms(sims: Simulators): SandboxPlatforms {
  return { published: () => sims.published() };
}

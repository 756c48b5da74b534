/**
 * The platforms IQSP publishes to, as the core knows them: ids only. What each one needs
 * (configuration, options, its publisher) lives in its folder under src/publishers/.
 */
export type Platform = 'facebook' | 'instagram' | 'x' | 'tiktok';
export const PLATFORMS: readonly Platform[] = ['facebook', 'instagram', 'x', 'tiktok'];

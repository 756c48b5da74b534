/** What the composition root needs from the shared Meta code. */
export type { MetaPublisherOptions } from './options.js';

/**
 * discord.js and @discordjs/rest use the undici the rest of the process loads (package.json's
 * `overrides`), not copies of their own: each copy was ~3 MB of heap in every `serve` with
 * Discord configured (issue 19). Their requests go through Node's fetch (src/bots/discord/client.ts),
 * so the undici major they were released with does not matter to what they send.
 */
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);

it('discord.js and @discordjs/rest resolve undici to the project’s one copy', () => {
  const root = require.resolve('undici');
  const discord = createRequire(require.resolve('discord.js'));
  const rest = createRequire(discord.resolve('@discordjs/rest'));
  expect(discord.resolve('undici')).toBe(root);
  expect(rest.resolve('undici')).toBe(root);
});

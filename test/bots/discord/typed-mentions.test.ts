/**
 * A mention a person typed never pings on Discord (issue 14): `allowed_mentions.users` holds
 * only the people the core names (its mention segments), not the `<@id>` found in user text
 * the core echoes, such as a typed command or a caption.
 */
import { describe, expect, it } from 'vitest';
import { newMessage, renderMessage } from '../../../src/bots/discord/render.js';

describe('typed mentions in Discord messages', () => {
  it('user text with `<@id>` is shown but allows no one to be pinged', () => {
    const echoed = renderMessage({ text: 'I don\'t know the command "<@999> <@!998>". Type `help` for the commands.' });
    expect(echoed.content).toBe('I don\'t know the command "<@999> <@!998>". Type `help` for the commands.');
    expect(echoed.allowedMentions).toEqual({ parse: [], users: [], repliedUser: false });
    expect(newMessage({ text: 'Caption: hello <@999>' }).allowedMentions).toEqual({ parse: [], users: [], repliedUser: false });
  });
});

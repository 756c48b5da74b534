/**
 * Issue 13, "Done when" (fuzz): the chat grammar (src/core/grammar.ts) never throws and always
 * answers either a command or a message a person can act on, whatever the text: generated
 * command-shaped text, arbitrary Unicode and binary strings, and long adversarial runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand, parseTargets, USAGE } from '../../src/grammar.js';
import { commandText, fuzzParameters } from './fuzz-settings.js';

const anyText = fc.oneof(commandText, fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }));

describe('the chat grammar under fuzz', () => {
  it('parseCommand answers a known command or a non-empty message, never throws', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const result = parseCommand(text);
        if (result.ok) expect(Object.keys(USAGE)).toContain(result.command.kind);
        else expect(result.message.trim()).not.toBe('');
      }),
      fuzzParameters(20),
    );
  });

  it('parseTargets answers targets or a non-empty message, never throws', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const result = parseTargets(text);
        if (typeof result === 'string') expect(result.trim()).not.toBe('');
        else expect(result.length).toBeGreaterThan(0);
      }),
      fuzzParameters(20),
    );
  });

  it('a command that parses parses the same with blanks around it (the grammar ignores them)', () => {
    fc.assert(
      fc.property(commandText, fc.constantFrom(' ', '\n', '\t', '  \n '), (text, blank) => {
        expect(parseCommand(`${blank}${text}${blank}`)).toEqual(parseCommand(text));
      }),
      fuzzParameters(10),
    );
  });
});

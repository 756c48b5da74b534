/** Thread parts: `---` as a line or a word splits; other platforms join the parts with a blank line. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  draftForPublisher,
  hasThreadSeparator,
  joinThreadParts,
  threadParts,
  withoutThreadSeparators,
} from '../../src/core/thread-parts.js';
import { fuzzParameters } from '../fuzz/fuzz-settings.js';

/** Text from pieces that make separators likely: dashes, whitespace of every kind, words, emoji. */
const threadish = fc
  .array(fc.oneof(fc.constantFrom('---', '--', '----', '-', ' ', '\n', '\t', '\u00a0', '\r\n', 'a', 'word', '😀', '$X'), fc.string()), {
    maxLength: 20,
  })
  .map((pieces) => pieces.join(''));

describe('threadParts', () => {
  it('splits on a line that is exactly ---, trimming the parts', () => {
    expect(threadParts('First part.\n---\nSecond part.\n---\nThird.')).toEqual(['First part.', 'Second part.', 'Third.']);
  });

  it('splits on --- as a word, and on a line with blanks around it', () => {
    expect(threadParts('Big news --- details follow')).toEqual(['Big news', 'details follow']);
    expect(threadParts('one\n  ---  \ntwo')).toEqual(['one', 'two']);
    expect(threadParts('one\t---\ttwo')).toEqual(['one', 'two']);
  });

  it('does not split on --- inside a word or on other dashes', () => {
    for (const text of ['a---b', '---a', 'a---', '----', '-- -', 'x ---! y', '—', '–––']) expect(threadParts(text), text).toEqual([text]);
    expect(hasThreadSeparator('a---b ----')).toBe(false);
  });

  it('drops empty parts (a stray --- at either end or two in a row)', () => {
    expect(threadParts('---\nHello\n---\n---\nWorld\n---')).toEqual(['Hello', 'World']);
    expect(threadParts('--- --- ---')).toEqual(['']);
    expect(threadParts('---')).toEqual(['']);
  });

  it('keeps a text without a separator exactly as given, blanks included', () => {
    expect(threadParts('  Hello\n\n')).toEqual(['  Hello\n\n']);
    expect(threadParts('')).toEqual(['']);
  });

  it('property: text without a separator is one part, unchanged, and joins back to itself', () => {
    fc.assert(
      fc.property(threadish, (text) => {
        fc.pre(!hasThreadSeparator(text));
        expect(threadParts(text)).toEqual([text]);
        expect(joinThreadParts(threadParts(text))).toBe(text);
        expect(withoutThreadSeparators(text)).toBe(text);
      }),
      fuzzParameters(4),
    );
  });

  it('property: --- glued to a word never splits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9!?.]{1,8}$/), fc.boolean(), (word, before) => {
        const glued = before ? `${word}---` : `---${word}`;
        expect(threadParts(`start ${glued} end`)).toEqual([`start ${glued} end`]);
      }),
      fuzzParameters(2),
    );
  });

  it('property: parts are non-empty, trimmed and hold no separator; splitting joined parts gives them back', () => {
    fc.assert(
      fc.property(threadish, (text) => {
        fc.pre(hasThreadSeparator(text));
        const parts = threadParts(text);
        expect(parts.length).toBeGreaterThan(0);
        if (parts.length > 1 || parts[0] !== '')
          for (const part of parts) {
            expect(part).not.toBe('');
            expect(part.trim()).toBe(part);
            expect(hasThreadSeparator(part)).toBe(false);
          }
        const joined = joinThreadParts(parts);
        expect(hasThreadSeparator(joined)).toBe(false);
        expect(withoutThreadSeparators(text)).toBe(joined);
        // Written with separators again, the same parts come back.
        expect(threadParts(parts.join('\n---\n'))).toEqual(parts);
      }),
      fuzzParameters(4),
    );
  });
});

describe('joinThreadParts', () => {
  it('joins with a blank line, for platforms that do not post threads', () => {
    expect(withoutThreadSeparators('Launch day!\n---\nWhat is new:\n- faster\n---\nThanks')).toBe(
      'Launch day!\n\nWhat is new:\n- faster\n\nThanks',
    );
    expect(withoutThreadSeparators('a --- b')).toBe('a\n\nb');
  });
});

describe('draftForPublisher', () => {
  const draft = { caption: 'One\n---\nTwo', media: [], options: {} };

  it('hands a publisher that posts threads the separators, and any other the parts joined', () => {
    expect(draftForPublisher({ postsThreads: true }, draft)).toBe(draft);
    expect(draftForPublisher({}, draft)).toEqual({ ...draft, caption: 'One\n\nTwo' });
  });

  it('leaves a caption without separators as it is', () => {
    const plain = { caption: 'Just one post --', media: [], options: {} };
    expect(draftForPublisher({}, plain)).toBe(plain);
  });
});

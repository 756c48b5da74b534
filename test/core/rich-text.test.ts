/** Rich text: how the core writes what it says (segments), and reads it back from a stored notice. */
import { describe, expect, it } from 'vitest';
import { channelRef, joinRich, mention, plainText, rich, richTextFromJson, segmentsOf } from '../../src/core/ports/rich-text.js';

describe('rich text', () => {
  it('a template keeps interpolated strings as text, whatever they hold, and segments as they are', () => {
    const typed = 'hi <@U0ATTACKER>';
    expect(rich`Post 1 from ${mention('U1')}: ${typed} (${2})`).toEqual([
      { kind: 'text', text: 'Post 1 from ' },
      { kind: 'mention', user: 'U1' },
      { kind: 'text', text: ': hi <@U0ATTACKER> (2)' },
    ]);
    expect(rich`${rich`in ${channelRef('C1')}`}${''}.`).toEqual([
      { kind: 'text', text: 'in ' },
      { kind: 'channel', channel: 'C1' },
      { kind: 'text', text: '.' },
    ]);
    expect(segmentsOf('')).toEqual([]);
  });

  it('joins, and reads as plain text for logs', () => {
    const joined = joinRich([mention('U1'), 'x', mention('U2')], ', ');
    expect(plainText(joined)).toBe('@U1, x, @U2');
    expect(plainText('plain <@U1>')).toBe('plain <@U1>');
  });

  it('reads a stored notice back: segments as written, a plain string (queued before segments) as text, junk left out', () => {
    const text = rich`approved by ${mention('U1')}`;
    expect(richTextFromJson(JSON.parse(JSON.stringify(text)))).toEqual(text);
    expect(richTextFromJson('approved by someone')).toBe('approved by someone');
    expect(richTextFromJson([{ kind: 'mention', user: 7 }, { kind: 'link', url: 'https://a.test', label: 'a' }, null])).toEqual([
      { kind: 'link', url: 'https://a.test', label: 'a' },
    ]);
  });
});

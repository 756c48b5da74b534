/** The sandbox's Block Kit → HTML renderer: Slack's markup read as Slack reads it, everything else escaped. */
import { describe, expect, it } from 'vitest';
import { blocksHtml, mrkdwnHtml } from '../../src/sandbox/block-kit-html.js';

describe('mrkdwn as HTML', () => {
  it('shows a date by its fallback, people and channels by their ids, links as links', () => {
    expect(mrkdwnHtml('at <!date^1796630400^{date_short_pretty} {time}|Mon 7 Dec 09:30 CET>')).toBe('at Mon 7 Dec 09:30 CET');
    expect(mrkdwnHtml('asked by <@U1> in <#C2>')).toBe('asked by @U1 in #C2');
    expect(mrkdwnHtml('see <https://example.com/a?b=1&amp;c=2|the post>')).toBe(
      'see <a href="https://example.com/a?b=1&amp;c=2" rel="noopener">the post</a>',
    );
    expect(mrkdwnHtml('<javascript:alert(1)|click>')).toBe('click');
  });

  it('formats bold, italic, strike and code, and breaks lines', () => {
    expect(mrkdwnHtml('*P1* · _soon_ ~old~ `post x`\nnext')).toBe(
      '<strong>P1</strong> · <em>soon</em> <del>old</del> <code>post x</code><br>next',
    );
    expect(mrkdwnHtml('*<!date^1|Mon 7 Dec>*')).toBe('<strong>Mon 7 Dec</strong>');
  });

  it('quotes a line that starts with > (escaped, as Slack sends it)', () => {
    expect(mrkdwnHtml('*P1* soon\n&gt;Launch &amp; more\nafter')).toBe(
      '<strong>P1</strong> soon<blockquote>Launch &amp; more</blockquote>after',
    );
  });

  it('escapes what the text says: Slack-escaped or not, a caption never becomes markup', () => {
    expect(mrkdwnHtml('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "quotes"')).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;',
    );
    expect(mrkdwnHtml('<img src=x onerror=alert(1)>')).toBe('img src=x onerror=alert(1)');
    expect(mrkdwnHtml('a \uE0000\uE000 b')).toBe('a 0 b');
  });
});

describe('blocks as HTML', () => {
  it('draws header, section with fields, context and divider, and leaves out other blocks', () => {
    const html = blocksHtml([
      { type: 'header', text: { type: 'plain_text', text: 'Upcoming <posts>' } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*P1* · <!date^1|Mon 7 Dec 09:30 CET>' },
        fields: [
          { type: 'mrkdwn', text: '*Targets*\nX @ada' },
          { type: 'plain_text', text: '*not bold*' },
        ],
      },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: '_by_ <@U1>' },
          { type: 'image', text: { not: 'text' } },
        ],
      },
      { type: 'divider' },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Press' } }] },
    ]);
    expect(html.split('\n')).toEqual([
      '<h2 class="header">Upcoming &lt;posts&gt;</h2>',
      '<div class="section"><div><strong>P1</strong> · Mon 7 Dec 09:30 CET</div><div class="fields"><div><strong>Targets</strong><br>X @ada</div><div>*not bold*</div></div></div>',
      '<div class="context"><span><em>by</em> @U1</span></div>',
      '<hr class="divider">',
      '',
    ]);
  });
});

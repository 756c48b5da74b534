/** `verify` on LinkedIn: the exact author-finder read of a Page's posts, and what each answer means (nock). */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useNock } from '../../helpers/nock.js';
import { ACCESS, API, linkedinPublisher, MEMBER, ORG, PAGE, REST_HEADERS } from './linkedin-fixtures.js';

useNock();
const committedAt = new Date('2026-12-04T10:00:00Z');
const at = (iso: string) => Date.parse(iso);

function arrangeFinder(elements: unknown[], status = 200): void {
  nock(API, { reqheaders: { ...REST_HEADERS, 'x-restli-method': 'FINDER' } })
    .get('/rest/posts')
    .query({ author: ORG, q: 'author', count: '50', sortBy: 'LAST_MODIFIED' })
    .reply(
      status,
      status === 200 ? { paging: { start: 0, count: 50 }, elements } : { status, message: 'Not enough permissions', code: 'ACCESS_DENIED' },
    );
}
const post = (id: string, commentary: string, createdAt: number, content?: unknown) => ({
  id,
  author: ORG,
  commentary,
  createdAt,
  lastModifiedAt: createdAt,
  lifecycleState: 'PUBLISHED',
  ...(content ? { content } : {}),
});
const verify = (text: string, mediaCount = 0, knownIds: string[] = []) =>
  linkedinPublisher().verify!({ account: PAGE, tokens: { accessToken: ACCESS }, text, mediaCount, committedAt, knownIds });

describe('LinkedIn verify', () => {
  it('finds the Page’s post by its text as LinkedIn shows it (escaped), media and time', async () => {
    arrangeFinder([
      post('urn:li:share:3', 'Launch \\(v2\\) \\#ship', at('2026-12-04T10:00:01Z'), { media: { id: 'urn:li:image:1' } }),
      post('urn:li:share:2', 'Launch \\(v2\\) \\#ship', at('2026-12-04T10:00:01Z')),
      post('urn:li:share:1', 'Launch \\(v2\\) \\#ship', at('2026-12-04T09:00:00Z'), { media: { id: 'urn:li:image:0' } }),
    ]);
    expect(await verify('Launch (v2) #ship', 1)).toEqual({
      kind: 'live',
      platformPostId: 'urn:li:share:3',
      permalink: 'https://www.linkedin.com/feed/update/urn:li:share:3/',
    });
  });

  it('counts the images of a multi-image post, and skips posts IQSP already knows', async () => {
    const multi = { multiImage: { images: [{ id: 'a' }, { id: 'b' }] } };
    arrangeFinder([
      post('urn:li:share:5', 'Two', at('2026-12-04T10:00:02Z'), multi),
      post('urn:li:share:4', 'Two', at('2026-12-04T10:00:01Z'), multi),
    ]);
    expect(await verify('Two', 2, ['urn:li:share:4'])).toMatchObject({ kind: 'live', platformPostId: 'urn:li:share:5' });
  });

  it('answers absent when nothing matches since the commit, unknown when LinkedIn refuses the read', async () => {
    arrangeFinder([post('urn:li:share:1', 'Other text', at('2026-12-04T10:00:01Z'))]);
    expect(await verify('Launch')).toMatchObject({ kind: 'absent' });
    arrangeFinder([], 403);
    expect(await verify('Launch')).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('lack of permission') });
  });

  it('cannot tell for a member: LinkedIn does not let apps read a member’s posts (no request made)', async () => {
    const result = await linkedinPublisher().verify!({
      account: MEMBER,
      tokens: { accessToken: ACCESS },
      text: 'x',
      mediaCount: 0,
      committedAt,
    });
    expect(result).toEqual({ kind: 'unknown', reason: "LinkedIn does not let apps read a member's posts; check the LinkedIn profile" });
  });
});

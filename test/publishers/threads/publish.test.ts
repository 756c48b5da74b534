/** Threads publishing at the request level: reply chains, resuming, the container ref, container failures. */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { PublishResult } from '../../../src/publishers/publisher.js';
import { useMediaDir } from '../../helpers/media.js';
import { useNock } from '../../helpers/nock.js';
import {
  arrangeContainer,
  arrangePermalink,
  arrangePublish,
  arrangeStatus,
  graphError,
  jpegFile,
  mediaUrl,
  publishRequest,
  threadsPublisher,
} from './threads-fixtures.js';

const dir = useMediaDir('iqsp-threads-publish-');
useNock();

function failure(result: PublishResult) {
  if (result.kind !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.failure;
}

function logged(caption: string, files: Parameters<typeof publishRequest>[2], liveParts?: string[], durable = true) {
  const events: string[] = [];
  const request = publishRequest(dir.media, caption, files, {
    beforeCommit: () => Promise.resolve(void events.push('commit')),
    onPlatformRef: (ref) => Promise.resolve(void events.push(`ref ${ref}`)),
    ...(durable
      ? { onPartLive: (index: number, id: string, link: string) => Promise.resolve(void events.push(`live ${index} ${id} ${link}`)) }
      : {}),
    liveParts,
  });
  return { request, events };
}

const link = (n: string) => `https://www.threads.net/@acme/post/P${n}`;

describe('Threads reply chains', () => {
  it('publishes part 1 with the media, then each part as a reply to the one before, the container ref and a commit before each', async () => {
    const image = await jpegFile(dir.media, dir.workDir);
    arrangeContainer({ media_type: 'IMAGE', image_url: mediaUrl('img-1'), text: 'One' }, 'c1');
    arrangeStatus('c1', 'FINISHED');
    arrangePublish('c1', 'm1');
    arrangePermalink('m1', link('1'));
    arrangeContainer({ media_type: 'TEXT', text: 'Two', reply_to_id: 'm1' }, 'c2');
    arrangeStatus('c2', 'FINISHED');
    arrangePublish('c2', 'm2');
    arrangePermalink('m2', link('2'));
    arrangeContainer({ media_type: 'TEXT', text: 'Three', reply_to_id: 'm2' }, 'c3');
    arrangeStatus('c3', 'IN_PROGRESS', 'FINISHED');
    arrangePublish('c3', 'm3');
    arrangePermalink('m3');
    const { request, events } = logged('One\n---\nTwo\n---\nThree', [image]);
    expect(await threadsPublisher().publish(request)).toEqual({ kind: 'published', platformPostId: 'm1', permalink: link('1') });
    expect(events).toEqual([
      'ref c1',
      'commit',
      `live 0 m1 ${link('1')}`,
      'ref c2',
      'commit',
      `live 1 m2 ${link('2')}`,
      'ref c3',
      'commit',
      // No permalink (a copyright flag): the profile stands in.
      'live 2 m3 https://www.threads.net/@acme',
    ]);
  });

  it('resumes after the live parts: the media are not sent again, the next part replies to the last live one', async () => {
    arrangeContainer({ media_type: 'TEXT', text: 'Three', reply_to_id: 'm2' }, 'c3');
    arrangeStatus('c3', 'FINISHED');
    arrangePublish('c3', 'm3');
    arrangePermalink('m3', link('3'));
    arrangePermalink('m1', link('1'));
    const image = await jpegFile(dir.media, dir.workDir);
    const { request, events } = logged('One\n---\nTwo\n---\nThree', [image], ['m1', 'm2']);
    expect(await threadsPublisher().publish(request)).toEqual({ kind: 'published', platformPostId: 'm1', permalink: link('1') });
    expect(events).toEqual(['ref c3', 'commit', `live 2 m3 ${link('3')}`]);
  });

  it("a refused part 2 keeps Threads' class and reason where live parts are recorded", async () => {
    arrangeContainer({ media_type: 'TEXT', text: 'First' }, 'c1');
    arrangeStatus('c1', 'FINISHED');
    arrangePublish('c1', 'm1');
    arrangePermalink('m1', link('1'));
    arrangeContainer(
      { media_type: 'TEXT', text: 'Second', reply_to_id: 'm1' },
      { status: 400, body: graphError(100, '(#100) text is refused') },
    );
    const { request, events } = logged('First\n---\nSecond', []);
    expect(failure(await threadsPublisher().publish(request))).toMatchObject({ class: 'content', platformCode: 'threads:100' });
    expect(events).toEqual(['ref c1', 'commit', `live 0 m1 ${link('1')}`]);
  });

  it('without a record of live parts, the chain is one commit and a later failure is unknown, naming what is live', async () => {
    arrangeContainer({ media_type: 'TEXT', text: 'First' }, 'c1');
    arrangeStatus('c1', 'FINISHED');
    arrangePublish('c1', 'm1');
    arrangePermalink('m1', link('1'));
    arrangeContainer({ media_type: 'TEXT', text: 'Second', reply_to_id: 'm1' }, 'c2');
    arrangeStatus('c2', 'FINISHED');
    arrangePublish('c2', { status: 400, body: graphError(100, '(#100) refused') });
    const { request, events } = logged('First\n---\nSecond', [], undefined, false);
    const result = failure(await threadsPublisher().publish(request));
    expect(result.class).toBe('unknown');
    expect(result.message).toMatch(/^part 1 of 2 is live on Threads; part 2: Threads refused this post/);
    expect(events).toEqual(['ref c1', 'commit', 'ref c2']);
  });
});

describe('Threads containers', () => {
  it('an EXPIRED container is a content failure and nothing is committed', async () => {
    arrangeContainer({ media_type: 'TEXT', text: 'Hi' }, 'c1');
    arrangeStatus('c1', 'EXPIRED');
    const { request, events } = logged('Hi', []);
    expect(failure(await threadsPublisher().publish(request))).toMatchObject({
      class: 'content',
      platformCode: 'threads:container:EXPIRED',
    });
    expect(events).toEqual([]);
  });

  it('a container still IN_PROGRESS at the deadline is retryable; nothing was posted', async () => {
    arrangeContainer({ media_type: 'TEXT', text: 'Hi' }, 'c1');
    nock('https://graph.threads.net/v1.0').get('/c1').query(true).times(1000).reply(200, { status: 'IN_PROGRESS', id: 'c1' });
    const { request, events } = logged('Hi', []);
    const result = failure(await threadsPublisher({ pollIntervalMs: 1, maxWaitMs: 30 }).publish(request));
    expect(result).toMatchObject({ class: 'retryable', platformCode: 'threads:container:timeout' });
    expect(events).toEqual([]);
    nock.cleanAll();
  });

  it('a refused container (the media URL could not be fetched) is content, before any commit', async () => {
    const image = await jpegFile(dir.media, dir.workDir);
    arrangeContainer(
      { media_type: 'IMAGE', image_url: mediaUrl('img-1'), text: 'Hi' },
      { status: 400, body: graphError(100, 'The media could not be fetched from this URI: x', { error_subcode: 2207052 }) },
    );
    const { request, events } = logged('Hi', [image]);
    expect(failure(await threadsPublisher().publish(request)).class).toBe('content');
    expect(events).toEqual([]);
  });

  it('a publish answer that never came is unknown', async () => {
    arrangeContainer({ media_type: 'TEXT', text: 'Hi' }, 'c1');
    arrangeStatus('c1', 'FINISHED');
    nock('https://graph.threads.net/v1.0').post('/26000000000000001/threads_publish').replyWithError({ code: 'ECONNRESET' });
    const { request } = logged('Hi', []);
    expect(failure(await threadsPublisher().publish(request))).toMatchObject({ class: 'unknown', platformCode: 'threads:network' });
  });
});

describe('Threads media', () => {
  it('a video of almost 1 GB is handed over by its public URL: IQSP reads none of its bytes', async () => {
    const big = {
      id: 'big-1',
      kind: 'video' as const,
      mimeType: 'video/mp4',
      sizeBytes: 1023 * 1024 * 1024,
      sha256: 'x',
      durationMs: 290_000,
    };
    arrangeContainer({ media_type: 'VIDEO', video_url: mediaUrl('big-1'), text: 'Long one' }, 'c9');
    arrangeStatus('c9', 'IN_PROGRESS', 'FINISHED');
    arrangePublish('c9', 'm9');
    arrangePermalink('m9', link('9'));
    const heapBefore = process.memoryUsage().heapUsed;
    const { request } = logged('Long one', [big]);
    expect(await threadsPublisher().publish(request)).toEqual({ kind: 'published', platformPostId: 'm9', permalink: link('9') });
    expect(dir.media.streamed).not.toContain('big-1');
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});

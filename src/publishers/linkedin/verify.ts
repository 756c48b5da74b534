/**
 * Whether an unconfirmed post is live on LinkedIn (more-platforms.md §1.9). A Page's recent
 * posts are read with the Posts API's author finder (`r_organization_social`) and matched by
 * text, media and time; a member's posts cannot be read by apps (`r_member_social` is closed),
 * so for members nothing can be told. Reads only.
 */
import { httpRequest, NetworkError } from '../http.js';
import { arrayField, isJsonObject, numberField, objectField, stringField, type JsonObject } from '../json.js';
import type { VerifyRequest, VerifyResult } from '../publisher.js';
import { encodeUrn, isOrganization, postPermalink, restHeaders } from './api.js';
import { mapLinkedinError } from './errors.js';
import { unescapeLittleText } from './limits.js';

/** How far before the committing request a post is looked for: the clocks of IQSP and LinkedIn may differ. */
const CLOCK_SKEW_MS = 2 * 60_000;
const COUNT = 50;

export interface LinkedinVerifyOptions {
  apiUrl: string;
  apiVersion: string;
}

export async function verifyOnLinkedin(options: LinkedinVerifyOptions, request: VerifyRequest): Promise<VerifyResult> {
  const author = request.account.platformAccountId;
  if (!isOrganization(author))
    return { kind: 'unknown', reason: "LinkedIn does not let apps read a member's posts; check the LinkedIn profile" };
  const since = request.committedAt.getTime() - CLOCK_SKEW_MS;
  let answer;
  try {
    answer = await httpRequest(`${options.apiUrl}/rest/posts?author=${encodeUrn(author)}&q=author&count=${COUNT}&sortBy=LAST_MODIFIED`, {
      headers: restHeaders(
        { apiUrl: options.apiUrl, apiVersion: options.apiVersion, accessToken: request.tokens.accessToken },
        { 'X-RestLi-Method': 'FINDER' },
      ),
      signal: request.signal,
      timeoutMs: 30_000,
    });
  } catch (error) {
    if (error instanceof NetworkError) return { kind: 'unknown', reason: `LinkedIn could not be reached (${error.message})` };
    throw error;
  }
  if (answer.status !== 200) return { kind: 'unknown', reason: mapLinkedinError(answer, 'read').message };
  const posts = arrayField(answer.json, 'elements').filter(isJsonObject);
  const known = new Set(request.knownIds ?? []);
  const match = posts
    .filter((post) => !known.has(stringField(post, 'id') ?? '') && matches(post, request, since))
    .sort((a, b) => (numberField(a, 'createdAt') ?? 0) - (numberField(b, 'createdAt') ?? 0))[0];
  const id = match ? stringField(match, 'id') : undefined;
  if (id) return { kind: 'live', platformPostId: id, permalink: postPermalink(id) };
  // Sorted by last change: a page full of posts all newer than the commit may hide it further on.
  const oldest = Math.min(...posts.map((p) => numberField(p, 'lastModifiedAt') ?? numberField(p, 'createdAt') ?? 0));
  if (posts.length >= COUNT && oldest >= since)
    return { kind: 'unknown', reason: `${request.account.displayName} posted too much since then on LinkedIn to read it all` };
  return { kind: 'absent', reason: `LinkedIn shows no such post of ${request.account.displayName} since ${new Date(since).toISOString()}` };
}

function matches(post: JsonObject, request: VerifyRequest, since: number): boolean {
  const created = numberField(post, 'createdAt') ?? numberField(post, 'publishedAt');
  if (created === undefined || created < since) return false;
  if (mediaCount(objectField(post, 'content')) !== request.mediaCount) return false;
  return normalize(unescapeLittleText(stringField(post, 'commentary') ?? '')) === normalize(request.text);
}

function mediaCount(content: JsonObject | undefined): number {
  if (!content) return 0;
  const images = arrayField(objectField(content, 'multiImage'), 'images').length;
  if (images > 0) return images;
  return objectField(content, 'media') ? 1 : 0;
}

function normalize(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

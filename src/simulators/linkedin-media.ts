/**
 * LinkedIn's Images and Videos APIs as the simulator keeps them (more-platforms.md §1.5): an
 * image is one PUT to its upload URL (a later PUT replaces the bytes, as at LinkedIn); a video
 * is initialized with its size, cut into ranges, each range PUT in order with exactly its
 * bytes and answered with an ETag, finalized with those ETags in order and the upload token,
 * then processed (PROCESSING for a few polls, then AVAILABLE, or PROCESSING_FAILED when the
 * bytes are not an MP4). Bytes are counted and hashed as they stream in, never kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { randomToken } from './ids.js';
import { accessDenied, apiError, asRecord, inputError, liHeaders, objectBody } from './linkedin-shapes.js';
import { sniffType } from './media-fetch.js';
import { header, json, receivedFile, type SimRequest, type SimResponse } from './server.js';

export type AssetStatus = 'WAITING_UPLOAD' | 'PROCESSING' | 'AVAILABLE' | 'PROCESSING_FAILED';

export interface ImageAsset {
  urn: string;
  owner: string;
  uploadToken: string;
  status: AssetStatus;
  pollsLeft: number;
  bytes: number;
  sha256?: string | undefined;
  type?: string | undefined;
  puts: number;
}

export interface VideoAsset {
  urn: string;
  owner: string;
  fileSizeBytes: number;
  uploadToken: string;
  /** The path token of its upload URLs. */
  urlToken: string;
  parts: Array<{ firstByte: number; lastByte: number; etag?: string | undefined; sha256?: string | undefined }>;
  status: AssetStatus;
  pollsLeft: number;
  failureReason?: string | undefined;
  head?: Buffer | undefined;
  finalized: boolean;
}

export interface MediaRules {
  videoPartBytes: number;
  processingPolls: number;
  /** The largest video LinkedIn takes through the API (the schema says 5 GB; 500 MB is the documented cap). */
  maxVideoBytes: number;
}

/** Who is calling, as the media routes need it: may `owner` upload? */
export type OwnerCheck = (owner: string) => boolean;

export class LinkedinMedia {
  readonly images = new Map<string, ImageAsset>();
  readonly videos = new Map<string, VideoAsset>();
  private readonly imageUploads = new Map<string, string>();
  private readonly videoUploads = new Map<string, string>();

  constructor(
    private readonly rules: MediaRules,
    private readonly baseUrl: () => string,
  ) {}

  initializeImage(request: SimRequest, mayOwn: OwnerCheck): SimResponse {
    const init = asRecord(objectBody(request)?.initializeUploadRequest);
    const owner = typeof init?.owner === 'string' ? init.owner : undefined;
    if (!owner)
      return inputError(422, '/initializeUploadRequest/owner', 'MISSING_FIELD', 'Field Value validation failed: owner is required');
    if (!mayOwn(owner)) return accessDenied(`images.ACTION.initializeUpload (owner ${owner})`);
    const urn = `urn:li:image:${imageId()}`;
    const uploadToken = randomToken('', 18);
    this.images.set(urn, { urn, owner, uploadToken, status: 'WAITING_UPLOAD', pollsLeft: this.rules.processingPolls, bytes: 0, puts: 0 });
    this.imageUploads.set(uploadToken, urn);
    return json(
      200,
      {
        value: {
          uploadUrlExpiresAt: Date.now() + 24 * 3_600_000,
          uploadUrl: `${this.baseUrl()}/dms-uploads/images/${uploadToken}?ca=vector_feedshare&cn=uploads`,
          image: urn,
        },
      },
      liHeaders(),
    );
  }

  /** The whole image in one PUT; another PUT to the same URL replaces it (chunked PUTs overwrite each other). */
  putImage(request: SimRequest, token: string): SimResponse {
    const urn = this.imageUploads.get(token);
    const image = urn ? this.images.get(urn) : undefined;
    if (!image) return apiError(404, 'NOT_FOUND', 'Upload URL not found or expired.');
    const file = receivedFile(request.body);
    if (!file || file.bytes === 0) return apiError(400, 'BAD_REQUEST', 'The upload has no bytes.');
    image.puts += 1;
    image.bytes = file.bytes;
    image.sha256 = file.sha256;
    image.type = sniffType(file.head);
    const supported = image.type === 'image/jpeg' || image.type === 'image/png' || image.type === 'image/gif';
    image.status = supported ? 'PROCESSING' : 'PROCESSING_FAILED';
    image.pollsLeft = this.rules.processingPolls;
    return { status: 201, headers: liHeaders(), body: '' };
  }

  /** An image's status needs an organization's token: a member's image answers 403 (§1.5). */
  imageStatus(urn: string, mayOwn: OwnerCheck): SimResponse {
    const image = this.images.get(urn);
    if (!image) return apiError(404, 'NOT_FOUND', `Image ${urn} not found.`);
    if (!image.owner.startsWith('urn:li:organization:') || !mayOwn(image.owner)) return accessDenied(`images.GET (${urn})`);
    advance(image);
    return json(200, { id: urn, owner: image.owner, status: image.status }, liHeaders());
  }

  initializeVideo(request: SimRequest, mayOwn: OwnerCheck): SimResponse {
    const init = asRecord(objectBody(request)?.initializeUploadRequest);
    const owner = typeof init?.owner === 'string' ? init.owner : undefined;
    const size = init?.fileSizeBytes;
    if (!owner)
      return inputError(422, '/initializeUploadRequest/owner', 'MISSING_FIELD', 'Field Value validation failed: owner is required');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
      return inputError(422, '/initializeUploadRequest/fileSizeBytes', 'INVALID_VALUE', 'fileSizeBytes must be a positive integer');
    if (size > this.rules.maxVideoBytes)
      return inputError(
        400,
        '/initializeUploadRequest/fileSizeBytes',
        'FIELD_VALUE_TOO_HIGH',
        `fileSizeBytes must be at most ${this.rules.maxVideoBytes}`,
      );
    if (init?.uploadCaptions !== undefined && typeof init.uploadCaptions !== 'boolean')
      return inputError(422, '/initializeUploadRequest/uploadCaptions', 'INVALID_VALUE', 'uploadCaptions must be a boolean');
    if (!mayOwn(owner)) return accessDenied(`videos.ACTION.initializeUpload (owner ${owner})`);
    const urn = `urn:li:video:${imageId()}`;
    const urlToken = randomToken('', 18);
    const parts: VideoAsset['parts'] = [];
    for (let first = 0; first < size; first += this.rules.videoPartBytes)
      parts.push({ firstByte: first, lastByte: Math.min(first + this.rules.videoPartBytes, size) - 1 });
    const video: VideoAsset = {
      urn,
      owner,
      fileSizeBytes: size,
      uploadToken: parts.length > 1 ? randomToken('', 12) : '',
      urlToken,
      parts,
      status: 'WAITING_UPLOAD',
      pollsLeft: this.rules.processingPolls,
      finalized: false,
    };
    this.videos.set(urn, video);
    this.videoUploads.set(urlToken, urn);
    return json(
      200,
      {
        value: {
          uploadUrlsExpireAt: Date.now() + 24 * 3_600_000,
          video: urn,
          uploadInstructions: parts.map((p, i) => ({
            uploadUrl: `${this.baseUrl()}/dms-uploads/videos/${urlToken}/${i}?ca=vector_feedshare&cn=uploads`,
            firstByte: p.firstByte,
            lastByte: p.lastByte,
          })),
          uploadToken: video.uploadToken,
          thumbnailUploadUrl: '',
          captionsUploadUrl: '',
        },
      },
      liHeaders(),
    );
  }

  /** One part: in order, exactly its range's bytes, as application/octet-stream; answered with its ETag. */
  putVideoPart(request: SimRequest, token: string, indexText: string): SimResponse {
    const urn = this.videoUploads.get(token);
    const video = urn ? this.videos.get(urn) : undefined;
    const index = Number(indexText);
    const part = video?.parts[index];
    if (!video || !part) return apiError(404, 'NOT_FOUND', 'Upload URL not found or expired.');
    if (video.finalized) return apiError(400, 'BAD_REQUEST', 'The upload is already finalized.');
    const expected = video.parts.findIndex((p) => p.etag === undefined);
    if (index !== expected) return apiError(400, 'BAD_REQUEST', `Part ${index} arrived out of order; part ${expected} is next.`);
    if (!/^application\/octet-stream/i.test(header(request, 'content-type') ?? ''))
      return apiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Parts must be sent as application/octet-stream.');
    const file = receivedFile(request.body);
    const size = part.lastByte - part.firstByte + 1;
    if (!file || file.bytes !== size)
      return apiError(
        400,
        'BAD_REQUEST',
        `Part ${index} must be bytes ${part.firstByte}-${part.lastByte} (${size} bytes); got ${file?.bytes ?? 0}.`,
      );
    if (index === 0) video.head = file.head;
    part.sha256 = file.sha256;
    part.etag = `/ambry-video/signedId/${randomBytes(12).toString('hex')}`;
    return { status: 200, headers: liHeaders({ etag: part.etag }), body: '' };
  }

  finalizeVideo(request: SimRequest, mayOwn: OwnerCheck): SimResponse {
    const finalize = asRecord(objectBody(request)?.finalizeUploadRequest);
    const urn = typeof finalize?.video === 'string' ? finalize.video : '';
    const video = this.videos.get(urn);
    if (!video) return inputError(400, '/finalizeUploadRequest/video', 'INVALID_VALUE', `Video ${urn} not found`);
    if (!mayOwn(video.owner)) return accessDenied(`videos.ACTION.finalizeUpload (${urn})`);
    if ((finalize?.uploadToken ?? '') !== video.uploadToken)
      return inputError(400, '/finalizeUploadRequest/uploadToken', 'INVALID_VALUE', 'uploadToken does not match the upload');
    const ids = Array.isArray(finalize?.uploadedPartIds) ? finalize.uploadedPartIds : [];
    if (video.parts.some((p) => p.etag === undefined))
      return inputError(400, '/finalizeUploadRequest/uploadedPartIds', 'INVALID_VALUE', 'Not every part was uploaded');
    if (ids.length !== video.parts.length || video.parts.some((p, i) => p.etag !== ids[i]))
      return inputError(
        400,
        '/finalizeUploadRequest/uploadedPartIds',
        'INVALID_VALUE',
        'uploadedPartIds must be the ETags of the parts, in order',
      );
    video.finalized = true;
    const type = video.head ? sniffType(video.head) : undefined;
    if (type === 'video/mp4') video.status = 'PROCESSING';
    else {
      video.status = 'PROCESSING_FAILED';
      video.failureReason = 'Invalid video file: the file is not an MP4 video.';
    }
    return { status: 200, headers: liHeaders(), body: '' };
  }

  videoStatus(urn: string, mayOwn: OwnerCheck): SimResponse {
    const video = this.videos.get(urn);
    if (!video) return apiError(404, 'NOT_FOUND', `Video ${urn} not found.`);
    if (!mayOwn(video.owner)) return accessDenied(`videos.GET (${urn})`);
    advance(video);
    return json(
      200,
      {
        id: urn,
        owner: video.owner,
        status: video.status,
        ...(video.failureReason ? { processingFailureReason: video.failureReason } : {}),
      },
      liHeaders(),
    );
  }

  /** Makes the next finalized video fail processing, with `reason`. */
  failVideo(urn: string, reason: string): void {
    const video = this.videos.get(urn);
    if (!video) return;
    video.status = 'PROCESSING_FAILED';
    video.failureReason = reason;
  }
}

/** A status poll moves processing on: after `pollsLeft` PROCESSING answers, AVAILABLE. */
function advance(asset: { status: AssetStatus; pollsLeft: number }): void {
  if (asset.status !== 'PROCESSING') return;
  if (asset.pollsLeft <= 0) asset.status = 'AVAILABLE';
  else asset.pollsLeft -= 1;
}

/** Media URNs look like C4E10AQH3x… */
function imageId(): string {
  return `C4E10AQ${createHash('sha1').update(randomBytes(16)).digest('base64url').slice(0, 16)}`;
}

/**
 * Memory of an S3 upload, on this machine, from the built service (dist/): one large generated
 * stream (1 GiB by default) and one large file go up to the S3 simulator, and each way of
 * sending them is measured in a fresh process of its own: the peak growth of its resident
 * memory (RSS) and of its Buffers (`arrayBuffers`) over what it held before the upload began.
 * The simulator runs in another process, so what it holds is not counted.
 *
 * Ways measured: the media store (`S3MediaStore.put` for the stream, `putFile` for the file),
 * and, when `@aws-sdk/lib-storage` is installed, its `Upload` used directly with the same part
 * size and queue sizes 1 and 4 (its default): the comparison behind keeping the store's own
 * multipart upload (see src/media/s3-store.ts). Each is measured twice: with V8 left alone (dead Buffers pile up to
 * V8's own threshold before it collects them) and with young garbage collected whenever Buffers
 * grow 4 MiB past the start (as test/media/s3-store.test.ts measures), which shows what the code
 * itself holds.
 *
 *   npm run build && node bench/s3-upload.mjs [--mb 1024] [--part-mb 8]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, linkSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const dist = new URL('../dist/', import.meta.url);
const SCRIPT = fileURLToPath(import.meta.url);

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

/** `total` bytes in 64 KiB chunks (what a socket or a file stream hands over), each a fresh Buffer. */
function generatedStream(total) {
  const block = randomBytes(64 * 1024);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(block.length, total - sent);
      const chunk = Buffer.allocUnsafe(n);
      block.copy(chunk, 0, 0, n);
      sent += n;
      this.push(chunk);
    },
  });
}

/** The child that serves S3: prints its address and keys, then runs until its stdin closes. */
async function simulator() {
  const { S3Simulator } = await import(new URL('simulators/s3.js', dist).href);
  const s3 = await new S3Simulator({ buckets: ['bench'] }).start();
  process.stdout.write(
    `${JSON.stringify({ url: s3.url, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })}\n`,
  );
  process.stdin.resume();
  process.stdin.on('end', () => void s3.close().then(() => process.exit(0)));
}

/** The child that uploads one way once and prints what it measured. */
async function upload(job) {
  const { S3MediaStore } = await import(new URL('media/s3-store.js', dist).href);
  const { S3Client, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  const { Upload } = (await libStorage()) ?? {};
  const { s3, way, queueSize, partBytes, bytes, file, collect } = job;
  const connection = {
    region: s3.region,
    endpoint: s3.url,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
  const store = new S3MediaStore({ bucket: 'bench', partSizeBytes: partBytes, ...connection });
  const client = new S3Client(connection);
  const key = `bench-${process.pid}`;
  const send = {
    'store.put': (source) => store.put(key, source, Number.MAX_SAFE_INTEGER),
    'store.putFile': () => store.putFile(key, file),
    'Upload stream': (source) =>
      new Upload({ client, params: { Bucket: 'bench', Key: key, Body: source }, partSize: partBytes, queueSize }).done(),
    'Upload file': () =>
      new Upload({ client, params: { Bucket: 'bench', Key: key, Body: createReadStream(file) }, partSize: partBytes, queueSize }).done(),
  }[way];

  // Warm up with a small object: the SDK's modules loaded and a connection open, but no part's
  // memory already taken from the system (which would hide the growth being measured).
  await store.put(key, generatedStream(1024), Number.MAX_SAFE_INTEGER);
  if (way.startsWith('Upload'))
    await new Upload({ client, params: { Bucket: 'bench', Key: key, Body: generatedStream(1024) }, partSize: partBytes, queueSize }).done();

  global.gc();
  global.gc();
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakBuffers = start.arrayBuffers;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
    if (collect && now.arrayBuffers - start.arrayBuffers > 4 * MiB) global.gc({ type: 'minor' });
  }, 5);
  const began = performance.now();
  await send(generatedStream(bytes));
  const seconds = (performance.now() - began) / 1000;
  clearInterval(sampler);
  const end = process.memoryUsage();
  peakRss = Math.max(peakRss, end.rss);
  peakBuffers = Math.max(peakBuffers, end.arrayBuffers);
  await client.send(new DeleteObjectCommand({ Bucket: 'bench', Key: key }));
  store.destroy();
  client.destroy();
  process.stdout.write(
    `${JSON.stringify({ rssMiB: (peakRss - start.rss) / MiB, buffersMiB: (peakBuffers - start.arrayBuffers) / MiB, seconds })}\n`,
  );
}

/** `@aws-sdk/lib-storage` when installed (it is not a dependency: `npm install --no-save @aws-sdk/lib-storage@<client-s3's version>`). */
async function libStorage() {
  try {
    return await import('@aws-sdk/lib-storage');
  } catch {
    return undefined;
  }
}

function child(args, input) {
  const proc = spawn(process.execPath, ['--expose-gc', '--no-warnings', SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  if (input !== undefined) proc.stdin.end(input);
  return proc;
}

function firstLine(proc) {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (data) => {
      out += data;
      const eol = out.indexOf('\n');
      if (eol >= 0) resolve(JSON.parse(out.slice(0, eol)));
    });
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before answering`)));
  });
}

async function main() {
  const bytes = Number(option('mb', 1024)) * MiB;
  const partBytes = Number(option('part-mb', 8)) * MiB;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'iqsp-bench-s3-'));
  const original = path.join(tmp, 'original.bin');
  const fd = openSync(original, 'w');
  const block = randomBytes(MiB);
  for (let written = 0; written < bytes; written += MiB) writeSync(fd, block, 0, Math.min(MiB, bytes - written));
  closeSync(fd);

  const server = child(['--simulator']);
  const s3 = await firstLine(server);
  const ways = [
    { way: 'store.put', label: 'S3MediaStore.put (stream)', queueSize: 1 },
    { way: 'Upload stream', label: 'lib-storage Upload (stream), queueSize 1', queueSize: 1 },
    { way: 'Upload stream', label: 'lib-storage Upload (stream), queueSize 4', queueSize: 4 },
    { way: 'store.putFile', label: 'S3MediaStore.putFile (file)', queueSize: 1 },
    { way: 'Upload file', label: 'lib-storage Upload (file stream), queueSize 1', queueSize: 1 },
    { way: 'Upload file', label: 'lib-storage Upload (file stream), queueSize 4', queueSize: 4 },
  ];
  const compared = (await libStorage()) !== undefined;
  if (!compared) console.log('@aws-sdk/lib-storage is not installed: only the media store is measured.');
  console.log(
    `${bytes / MiB} MiB to the S3 simulator, parts of ${partBytes / MiB} MiB; peak growth over the start, in MiB (node ${process.version})`,
  );
  console.log(
    'way'.padEnd(48),
    'RSS (V8 alone)'.padStart(15),
    'Buffers'.padStart(8),
    'RSS (collected)'.padStart(16),
    'Buffers'.padStart(8),
    'seconds'.padStart(8),
  );
  try {
    for (const { way, label, queueSize } of ways.filter((w) => compared || !w.way.startsWith('Upload'))) {
      const row = [];
      for (const collect of [false, true]) {
        // putFile moves the file into the store (removing it): each run gets its own link to the bytes.
        const file = path.join(tmp, `run-${row.length}.bin`);
        linkSync(original, file);
        const job = { s3, way, queueSize, partBytes, bytes, file, collect };
        row.push(await firstLine(child(['--upload'], JSON.stringify(job))));
        rmSync(file, { force: true });
      }
      const [alone, collected] = row;
      console.log(
        label.padEnd(48),
        alone.rssMiB.toFixed(1).padStart(15),
        alone.buffersMiB.toFixed(1).padStart(8),
        collected.rssMiB.toFixed(1).padStart(16),
        collected.buffersMiB.toFixed(1).padStart(8),
        collected.seconds.toFixed(1).padStart(8),
      );
    }
  } finally {
    server.stdin.end();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--simulator')) await simulator();
else if (process.argv.includes('--upload')) {
  let input = '';
  for await (const data of process.stdin) input += data;
  await upload(JSON.parse(input));
} else await main();

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { pino } from 'pino';
import { createHlsRouter, parseRange } from '../../../src/api/routes/hls.ts';
import { DEFAULT_CONFIG } from '../../../src/config/schema.ts';
import { createHlsPublisher } from '../../../src/hls/publisher.ts';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Raw HTTP request: the path is sent exactly as given (no URL normalisation, unlike fetch). */
function request(
  port: number,
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nseg-000000001.ts\n';
const SEGMENT = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

describe('HLS routes on a real Koa server', () => {
  let dir: string;
  let server: http.Server;
  let port: number;
  let playlist: string | null = null;
  const askedBy: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hls-routes-'));
    const publicDir = path.join(dir, 'desktop');
    await mkdir(publicDir);
    await writeFile(path.join(publicDir, 'seg-000000001.ts'), SEGMENT);
    await writeFile(path.join(publicDir, 'notes.txt'), 'foreign');
    await writeFile(path.join(publicDir, '.playlist.m3u8.0123456789ab.tmp'), 'temp');
    await writeFile(path.join(dir, 'secret.ts'), 'outside');
    await symlink('/etc/passwd', path.join(publicDir, 'seg-000000009.ts'));
    await symlink(path.join(publicDir, 'seg-000000001.ts'), path.join(publicDir, 'seg-000000010.ts'));
    await mkdir(path.join(publicDir, 'seg-000000008.ts'));
    const app = new Koa();
    app.use(
      createHlsRouter({
        publicDir,
        playlist: () => playlist,
        onPlaylistRequest: (c) => askedBy.push(c),
      }).routes(),
    );
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  test('playlist: 404 JSON before it exists', async () => {
    playlist = null;
    const answer = await request(port, 'GET', '/hls/desktop/playlist.m3u8');
    assert.equal(answer.status, 404);
    assert.deepEqual(JSON.parse(answer.body.toString()), { error: 'not found' });
    assert.equal(answer.headers['access-control-allow-origin'], '*');
  });

  test('playlist: served from memory with its MIME type, no-cache and CORS; HEAD has no body', async () => {
    playlist = PLAYLIST;
    const get = await request(port, 'GET', '/hls/desktop/playlist.m3u8', { Origin: 'http://player.test' });
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), PLAYLIST);
    assert.match(String(get.headers['content-type']), /^application\/vnd\.apple\.mpegurl/);
    assert.equal(get.headers['cache-control'], 'no-cache');
    assert.equal(get.headers['access-control-allow-origin'], '*');
    const head = await request(port, 'HEAD', '/hls/desktop/playlist.m3u8');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(PLAYLIST)));
  });

  test('playlist requests name their client (address and User-Agent) for the HLS viewer count; segments do not', async () => {
    playlist = PLAYLIST;
    askedBy.length = 0;
    await request(port, 'GET', '/hls/desktop/playlist.m3u8', { 'User-Agent': 'kiosk-viewer/1' });
    await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { 'User-Agent': 'kiosk-viewer/1' });
    assert.deepEqual(askedBy, ['127.0.0.1 kiosk-viewer/1']);
  });

  test('segment: streamed from disk, video/mp2t, immutable cache, ranges advertised', async () => {
    const get = await request(port, 'GET', '/hls/desktop/seg-000000001.ts');
    assert.equal(get.status, 200);
    assert.deepEqual(get.body, SEGMENT);
    assert.equal(get.headers['content-type'], 'video/mp2t');
    assert.match(String(get.headers['cache-control']), /^public, max-age=\d+, immutable$/);
    assert.equal(get.headers['accept-ranges'], 'bytes');
    assert.equal(get.headers['content-length'], '1000');
    assert.equal(get.headers['access-control-allow-origin'], '*');
    const head = await request(port, 'HEAD', '/hls/desktop/seg-000000001.ts');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.headers['content-type'], 'video/mp2t');
  });

  test('segment: single byte ranges (Safari/VLC) and unsatisfiable ones', async () => {
    const first = await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { Range: 'bytes=0-9' });
    assert.equal(first.status, 206);
    assert.equal(first.headers['content-range'], 'bytes 0-9/1000');
    assert.deepEqual(first.body, SEGMENT.subarray(0, 10));
    const tail = await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { Range: 'bytes=-5' });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.body, SEGMENT.subarray(995));
    const open = await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { Range: 'bytes=990-' });
    assert.deepEqual(open.body, SEGMENT.subarray(990));
    const beyond = await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { Range: 'bytes=5000-' });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], 'bytes */1000');
    const multi = await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { Range: 'bytes=0-1,5-6' });
    assert.equal(multi.status, 200, 'multiple ranges: the whole file');
    assert.equal(multi.body.length, 1000);
  });

  test('CORS preflight from any origin', async () => {
    const answer = await request(port, 'OPTIONS', '/hls/desktop/seg-000000001.ts', {
      Origin: 'http://elsewhere.test',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'range',
    });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers['access-control-allow-origin'], '*');
    assert.match(String(answer.headers['access-control-allow-methods']), /GET/);
    assert.match(String(answer.headers['access-control-allow-headers']), /range/i);
  });

  const hostile = [
    '/hls/desktop/../../../../etc/passwd',
    '/hls/desktop/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/hls/desktop/%2e%2e%2f%2e%2e%2fsecret.ts',
    '/hls/desktop/..%2fsecret.ts',
    '/hls/desktop/%2Fetc%2Fpasswd',
    '/hls/desktop//etc/passwd',
    '/hls//etc/passwd',
    '/hls/desktop/%252e%252e%252fsecret.ts',
    '/hls/desktop/seg-000000001.ts%00',
    '/hls/desktop/seg-000000001.ts/',
    '/hls/desktop/seg-1.ts',
    '/hls/desktop/notes.txt',
    '/hls/desktop/.playlist.m3u8.0123456789ab.tmp',
    '/hls/desktop/seg-000000009.ts', // symlink to /etc/passwd
    '/hls/desktop/seg-000000010.ts', // symlink to one of our segments: still not served
    '/hls/desktop/seg-000000008.ts', // a directory
    '/hls/desktop/seg-000000002.ts', // missing
    '/hls/secret.ts',
    '/hls/desktop',
  ];
  for (const rawPath of hostile) {
    test(`404 JSON, never a file: ${rawPath}`, async () => {
      for (const method of ['GET', 'HEAD']) {
        const answer = await request(port, method, rawPath);
        assert.equal(answer.status, 404, `${method} ${rawPath}`);
        if (method === 'GET') {
          assert.deepEqual(JSON.parse(answer.body.toString()), { error: 'not found' });
          assert.ok(!answer.body.toString().includes('root:'));
        }
      }
    });
  }
});

describe('parseRange', () => {
  test('single ranges, suffixes, clamping, and what falls back to the whole file', () => {
    assert.equal(parseRange(undefined, 10), null);
    assert.deepEqual(parseRange('bytes=2-4', 10), { start: 2, end: 4 });
    assert.deepEqual(parseRange('bytes=2-400', 10), { start: 2, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-2', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,3-4', 10), null);
    assert.equal(parseRange('items=0-1', 10), null);
    assert.equal(parseRange('bytes=-', 10), null);
  });
});

describe('HLS routes serving a real publisher', () => {
  test('every segment the playlist lists is downloadable; the playlist is the in-memory one', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hls-routes-publisher-'));
    const publisher = createHlsPublisher({
      config: { ...DEFAULT_CONFIG, output_dir: dir },
      logger: pino({ level: 'silent' }),
      diskUsage: async () => ({ usedPercent: 1 }),
    });
    const app = new Koa();
    app.use(
      createHlsRouter({
        publicDir: publisher.snapshot().publicDir,
        playlist: () => publisher.playlistText(),
      }).routes(),
    );
    const server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      await publisher.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    });
    const { port } = server.address() as AddressInfo;
    await publisher.start();
    assert.equal((await request(port, 'GET', '/hls/desktop/playlist.m3u8')).status, 404);
    await publisher.beginRun();
    for (let i = 0; i < 7; i += 1) {
      await publisher.publishPart({
        data: Buffer.alloc(500, i),
        durationSeconds: 2,
        independent: true,
        startsSegment: true,
        endsSegment: true,
        frames: 30,
        programDateTime: Date.now(),
      });
    }
    const answer = await request(port, 'GET', '/hls/desktop/playlist.m3u8');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), publisher.playlistText());
    const uris = answer.body
      .toString()
      .split('\n')
      .filter((line) => line.startsWith('seg-'));
    assert.equal(uris.length, DEFAULT_CONFIG.live_streaming.max_segments);
    for (const uri of uris) {
      const segment = await request(port, 'GET', `/hls/desktop/${uri}`);
      assert.equal(segment.status, 200, uri);
      assert.equal(segment.body.length, 500);
    }
  });
});

describe('HLS routes serving listed segments from memory', () => {
  test('a segment the publisher holds in memory is served from it (ranges and HEAD too), others from disk', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hls-memory-'));
    await writeFile(path.join(dir, 'seg-000000002.ts'), SEGMENT);
    const inMemory = Buffer.from('in memory, not on disk');
    const app = new Koa();
    app.use(
      createHlsRouter({
        publicDir: dir,
        playlist: () => PLAYLIST,
        segmentData: (name) => (name === 'seg-000000001.ts' ? inMemory : null),
      }).routes(),
    );
    const server = app.listen(0, '127.0.0.1');
    t.after(() => server.close());
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;

    const whole = await request(port, 'GET', '/hls/desktop/seg-000000001.ts');
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, inMemory);
    assert.equal(whole.headers['content-type'], 'video/mp2t');
    assert.match(String(whole.headers['cache-control']), /immutable/);
    const part = await request(port, 'GET', '/hls/desktop/seg-000000001.ts', { Range: 'bytes=3-8' });
    assert.equal(part.status, 206);
    assert.equal(part.body.toString(), 'memory');
    assert.equal(part.headers['content-range'], `bytes 3-8/${inMemory.length}`);
    const head = await request(port, 'HEAD', '/hls/desktop/seg-000000001.ts');
    assert.equal(head.headers['content-length'], String(inMemory.length));
    assert.equal(head.body.length, 0);
    assert.deepEqual((await request(port, 'GET', '/hls/desktop/seg-000000002.ts')).body, SEGMENT);
    assert.equal((await request(port, 'GET', '/hls/desktop/../seg-000000001.ts')).status, 404);
  });
});

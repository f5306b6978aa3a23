/**
 * Low-Latency HLS over real HTTP: `_HLS_msn`/`_HLS_part` validation, blocking playlist reloads,
 * parts served from memory (the preload-hinted one blocks until it exists), Range and HEAD.
 * The publisher side is a small fake LowLatencySource whose media the test "publishes".
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import Koa from 'koa';
import {
  BadReloadRequestError,
  createHlsRouter,
  type LowLatencySource,
  parseReloadRequest,
} from '../../../src/api/routes/hls.ts';
import { partFileName } from '../../../src/hls/playlist.ts';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** ms from sending to the end of the answer. */
  ms: number;
}

function request(
  port: number,
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: rawPath, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A live edge the test moves by hand, with the publisher's waiting rule. */
class FakeLive implements LowLatencySource {
  edge = { msn: 5, parts: 2, hinted: true };
  readonly parts = new Map<string, Buffer>();
  timeoutMs = 3000;
  readonly #waiters = new Set<{ msn: number; part: number | null; resolve: (ready: boolean) => void }>();

  constructor() {
    for (let index = 0; index < this.edge.parts; index++) {
      this.parts.set(partFileName(this.edge.msn, index), partBytes(this.edge.msn, index));
    }
  }

  #holds(msn: number, part: number | null): boolean {
    return msn < this.edge.msn || (msn === this.edge.msn && part !== null && part < this.edge.parts);
  }

  waitForMedia(msn: number, part: number | null, timeoutMs: number): Promise<boolean> {
    if (this.#holds(msn, part)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        msn,
        part,
        resolve: (ready: boolean) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(ready);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  liveEdge() {
    return { ...this.edge };
  }

  partData(name: string): Buffer | null {
    return this.parts.get(name) ?? null;
  }

  blockTimeoutMs(): number {
    return this.timeoutMs;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /** List the next part of the open segment. */
  publishPart(): string {
    const name = partFileName(this.edge.msn, this.edge.parts);
    this.parts.set(name, partBytes(this.edge.msn, this.edge.parts));
    this.edge = { msn: this.edge.msn, parts: this.edge.parts + 1, hinted: true };
    this.#wake();
    return name;
  }

  /** The open segment is complete: the next one is announced. */
  closeSegment(): void {
    this.edge = { msn: this.edge.msn + 1, parts: 0, hinted: true };
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) if (this.#holds(waiter.msn, waiter.part)) waiter.resolve(true);
  }
}

function partBytes(msn: number, index: number): Buffer {
  return Buffer.from(Array.from({ length: 376 }, (_, i) => (msn * 31 + index * 7 + i) % 256));
}

interface Served {
  port: number;
  live: FakeLive;
  playlistPath: string;
}

async function serve(t: { after(fn: () => Promise<void>): void }, withLowLatency = true): Promise<Served> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hls-ll-routes-'));
  const live = new FakeLive();
  const app = new Koa();
  app.use(
    createHlsRouter({
      publicDir: dir,
      // The playlist names the edge it was rendered at, so the test sees which state it got.
      playlist: () =>
        `#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n# edge ${live.edge.msn}.${live.edge.parts}\n`,
      lowLatency: withLowLatency ? live : undefined,
    }).routes(),
  );
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  return { port: (server.address() as AddressInfo).port, live, playlistPath: '/hls/desktop/playlist.m3u8' };
}

function errorOf(answer: Answer): string {
  return (JSON.parse(answer.body.toString()) as { error: string }).error;
}

/** Follow a request that should block: it must still be pending after `ms`. */
async function pendingFor<T>(promise: Promise<T>, ms: number): Promise<void> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await sleep(ms);
  assert.equal(settled, false, `answered within ${ms} ms although nothing was published`);
}

describe('parseReloadRequest', () => {
  test('a plain reload is null; msn alone or with part parse as integers', () => {
    assert.equal(parseReloadRequest({}), null);
    assert.equal(parseReloadRequest({ other: 'x' }), null);
    assert.deepEqual(parseReloadRequest({ _HLS_msn: '7' }), { msn: 7, part: null });
    assert.deepEqual(parseReloadRequest({ _HLS_msn: '0', _HLS_part: '0' }), { msn: 0, part: 0 });
    assert.deepEqual(parseReloadRequest({ _HLS_msn: '999999999', _HLS_part: '12' }), {
      msn: 999_999_999,
      part: 12,
    });
  });

  for (const [label, value] of [
    ['negative', '-1'],
    ['text', 'abc'],
    ['empty', ''],
    ['fraction', '1.5'],
    ['signed', '+3'],
    ['hex', '0x10'],
    ['huge', '99999999999'],
    ['two values', ['1', '2']],
  ] as const) {
    test(`_HLS_msn ${label} (${JSON.stringify(value)}) is a BadReloadRequestError naming the parameter`, () => {
      assert.throws(
        () => parseReloadRequest({ _HLS_msn: value as string | string[] }),
        (error: unknown) => error instanceof BadReloadRequestError && /_HLS_msn/.test(error.message),
      );
      assert.throws(
        () => parseReloadRequest({ _HLS_msn: '1', _HLS_part: value as string | string[] }),
        (error: unknown) => error instanceof BadReloadRequestError && /_HLS_part/.test(error.message),
      );
    });
  }

  test('_HLS_part without _HLS_msn is refused', () => {
    assert.throws(
      () => parseReloadRequest({ _HLS_part: '1' }),
      (error: unknown) =>
        error instanceof BadReloadRequestError &&
        /_HLS_part/.test(error.message) &&
        /_HLS_msn/.test(error.message),
    );
  });
});

describe('Low-Latency HLS routes on a real Koa server', () => {
  test('bad _HLS_msn values → 400 naming the parameter, at once', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    for (const query of [
      '_HLS_msn=-1',
      '_HLS_msn=abc',
      '_HLS_msn=1&_HLS_msn=2',
      '_HLS_msn=99999999999',
      '_HLS_msn=',
      '_HLS_msn=5&_HLS_part=-1',
      '_HLS_msn=5&_HLS_part=x',
    ]) {
      const answer = await request(port, 'GET', `${playlistPath}?${query}`);
      assert.equal(answer.status, 400, query);
      const param = query.includes('_HLS_part') ? '_HLS_part' : '_HLS_msn';
      assert.match(errorOf(answer), new RegExp(param), query);
      assert.ok(answer.ms < 1000, `${query} answered at once`);
      assert.equal(answer.headers['access-control-allow-origin'], '*');
    }
    assert.equal(live.waiting, 0);
  });

  test('_HLS_part without _HLS_msn → 400', async (t) => {
    const { port, playlistPath } = await serve(t);
    const answer = await request(port, 'GET', `${playlistPath}?_HLS_part=1`);
    assert.equal(answer.status, 400);
    assert.match(errorOf(answer), /_HLS_part/);
  });

  test('_HLS_msn beyond the live edge + 2 → 400 at once; edge + 2 is allowed (blocks)', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    live.timeoutMs = 300;
    const tooFar = await request(port, 'GET', `${playlistPath}?_HLS_msn=8`);
    assert.equal(tooFar.status, 400);
    assert.match(errorOf(tooFar), /_HLS_msn=8/);
    assert.ok(tooFar.ms < 250);
    const huge = await request(port, 'GET', `${playlistPath}?_HLS_msn=9999999999`);
    assert.equal(huge.status, 400);
    const edgePlus2 = await request(port, 'GET', `${playlistPath}?_HLS_msn=7`);
    assert.equal(edgePlus2.status, 503, 'waited for it (and timed out) instead of refusing');
    assert.ok(edgePlus2.ms >= 280);
  });

  test('a plain reload and a reload for media already there answer at once', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    for (const query of [
      '',
      '?_HLS_msn=4',
      '?_HLS_msn=5&_HLS_part=1',
      '?_HLS_msn=0&_HLS_part=9',
      '?_HLS_msn=5&_HLS_part=0',
    ]) {
      const answer = await request(port, 'GET', `${playlistPath}${query}`);
      assert.equal(answer.status, 200, query);
      assert.equal(answer.headers['content-type'], 'application/vnd.apple.mpegurl');
      assert.equal(answer.headers['cache-control'], 'no-cache');
      assert.match(answer.body.toString(), /# edge 5\.2/);
      assert.ok(answer.ms < 1000);
    }
    assert.equal(live.waiting, 0);
  });

  test('a reload for the next part blocks and answers 200 with the new playlist once it is published', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    const pending = request(port, 'GET', `${playlistPath}?_HLS_msn=5&_HLS_part=2`);
    await pendingFor(pending, 300);
    assert.equal(live.waiting, 1);
    const publishedAt = performance.now();
    live.publishPart();
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.match(answer.body.toString(), /# edge 5\.3/, 'the playlist that holds the part');
    assert.ok(answer.ms >= 300);
    assert.ok(performance.now() - publishedAt < 1000, 'answered soon after the publish');
  });

  test('several clients blocked on the same part are all released by one publish', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    const pending = [1, 2, 3].map(() => request(port, 'GET', `${playlistPath}?_HLS_msn=5&_HLS_part=2`));
    await pendingFor(Promise.race(pending), 200);
    live.publishPart();
    for (const answer of await Promise.all(pending)) {
      assert.equal(answer.status, 200);
      assert.match(answer.body.toString(), /# edge 5\.3/);
    }
  });

  test('a reload for a part two ahead is not released by the next part, only by its own', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    const pending = request(port, 'GET', `${playlistPath}?_HLS_msn=5&_HLS_part=3`);
    await pendingFor(pending, 150);
    live.publishPart();
    await pendingFor(pending, 150);
    live.publishPart();
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.match(answer.body.toString(), /# edge 5\.4/);
  });

  test('a reload for a whole segment (no _HLS_part) waits until that segment is complete', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    const pending = request(port, 'GET', `${playlistPath}?_HLS_msn=5`);
    await pendingFor(pending, 150);
    live.publishPart();
    await pendingFor(pending, 150);
    live.closeSegment();
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.match(answer.body.toString(), /# edge 6\.0/);
  });

  test('a reload for part 0 of the next segment is released when that segment gets its first part', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    const pending = request(port, 'GET', `${playlistPath}?_HLS_msn=6&_HLS_part=0`);
    await pendingFor(pending, 150);
    live.closeSegment();
    await pendingFor(pending, 150);
    live.publishPart();
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.match(answer.body.toString(), /# edge 6\.1/);
  });

  test('a blocking reload that times out → 503 with Retry-After', async (t) => {
    const { port, live, playlistPath } = await serve(t);
    live.timeoutMs = 400;
    const answer = await request(port, 'GET', `${playlistPath}?_HLS_msn=5&_HLS_part=2`);
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['retry-after'], '1');
    assert.match(errorOf(answer), /5/);
    assert.ok(answer.ms >= 380, `waited ${answer.ms} ms`);
    assert.ok(answer.ms < 2500);
    assert.equal(live.waiting, 0);
  });

  test('a listed part: 200 from memory with the segment headers', async (t) => {
    const { port } = await serve(t);
    const answer = await request(port, 'GET', `/hls/desktop/${partFileName(5, 1)}`);
    assert.equal(answer.status, 200);
    assert.ok(answer.body.equals(partBytes(5, 1)));
    assert.equal(answer.headers['content-type'], 'video/mp2t');
    assert.equal(answer.headers['accept-ranges'], 'bytes');
    assert.equal(answer.headers['content-length'], '376');
    assert.match(String(answer.headers['cache-control']), /max-age/);
    assert.equal(answer.headers['access-control-allow-origin'], '*');
  });

  test('parts honour Range (206, suffix, unsatisfiable) and HEAD', async (t) => {
    const { port } = await serve(t);
    const name = `/hls/desktop/${partFileName(5, 0)}`;
    const bytes = partBytes(5, 0);
    const range = await request(port, 'GET', name, { Range: 'bytes=10-19' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-range'], `bytes 10-19/${bytes.length}`);
    assert.ok(range.body.equals(bytes.subarray(10, 20)));
    const suffix = await request(port, 'GET', name, { Range: 'bytes=-5' });
    assert.equal(suffix.status, 206);
    assert.ok(suffix.body.equals(bytes.subarray(bytes.length - 5)));
    const open = await request(port, 'GET', name, { Range: 'bytes=370-' });
    assert.equal(open.status, 206);
    assert.ok(open.body.equals(bytes.subarray(370)));
    const beyond = await request(port, 'GET', name, { Range: `bytes=${bytes.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
    const head = await request(port, 'HEAD', name);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(bytes.length));
    assert.equal(head.body.length, 0);
    const headRange = await request(port, 'HEAD', name, { Range: 'bytes=0-99' });
    assert.equal(headRange.status, 206);
    assert.equal(headRange.headers['content-length'], '100');
    assert.equal(headRange.body.length, 0);
  });

  test('the preload-hinted part blocks, then 200 with its bytes when it is published', async (t) => {
    const { port, live } = await serve(t);
    const hinted = partFileName(5, 2);
    const pending = request(port, 'GET', `/hls/desktop/${hinted}`);
    await pendingFor(pending, 300);
    assert.equal(live.publishPart(), hinted);
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.ok(answer.body.equals(partBytes(5, 2)));
    assert.ok(answer.ms >= 300);
  });

  test('the hinted part 0 of the next segment blocks across the segment boundary', async (t) => {
    const { port, live } = await serve(t);
    live.closeSegment();
    const hinted = partFileName(6, 0);
    const pending = request(port, 'GET', `/hls/desktop/${hinted}`);
    await pendingFor(pending, 200);
    live.publishPart();
    const answer = await pending;
    assert.equal(answer.status, 200);
    assert.ok(answer.body.equals(partBytes(6, 0)));
  });

  test('the hinted part with a Range header: blocks, then 206', async (t) => {
    const { port, live } = await serve(t);
    const pending = request(port, 'GET', `/hls/desktop/${partFileName(5, 2)}`, { Range: 'bytes=0-9' });
    await pendingFor(pending, 150);
    live.publishPart();
    const answer = await pending;
    assert.equal(answer.status, 206);
    assert.ok(answer.body.equals(partBytes(5, 2).subarray(0, 10)));
  });

  test('the hinted part that never comes → 404 after the block timeout', async (t) => {
    const { port, live } = await serve(t);
    live.timeoutMs = 300;
    const answer = await request(port, 'GET', `/hls/desktop/${partFileName(5, 2)}`);
    assert.equal(answer.status, 404);
    assert.ok(answer.ms >= 280);
  });

  test('a missing part that was not announced → 404 at once', async (t) => {
    const { port, live } = await serve(t);
    live.timeoutMs = 5000;
    for (const name of [
      partFileName(5, 3), // two ahead of the edge
      partFileName(5, 9),
      partFileName(6, 0), // next segment while this one is open
      partFileName(4, 0), // an old part no longer kept
      partFileName(7, 0),
    ]) {
      const answer = await request(port, 'GET', `/hls/desktop/${name}`);
      assert.equal(answer.status, 404, name);
      assert.deepEqual(JSON.parse(answer.body.toString()), { error: 'not found' });
      assert.ok(answer.ms < 1000, `${name} answered at once (${answer.ms} ms)`);
    }
    assert.equal(live.waiting, 0);
  });

  test('names that only look like parts → 404', async (t) => {
    const { port } = await serve(t);
    for (const name of [
      'seg-5.p0.ts',
      'seg-000000005.p.ts',
      'seg-000000005.p00000.ts',
      'seg-000000005.p0.ts/',
      'seg-000000005.p0.m4s',
    ]) {
      const answer = await request(port, 'GET', `/hls/desktop/${name}`);
      assert.equal(answer.status, 404, name);
    }
  });

  test('without a Low-Latency source: _HLS_ parameters are ignored and parts are 404', async (t) => {
    const { port, playlistPath } = await serve(t, false);
    const plain = await request(port, 'GET', `${playlistPath}?_HLS_msn=abc&_HLS_part=-1`);
    assert.equal(plain.status, 200);
    const part = await request(port, 'GET', `/hls/desktop/${partFileName(5, 0)}`);
    assert.equal(part.status, 404);
  });
});

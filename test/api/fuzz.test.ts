/**
 * Throws a few thousand random requests (paths, methods, headers, query strings, bodies) at the
 * real app on loopback and checks that input alone never causes a 5xx, a stack trace or a hang.
 * Seeded, so a failure can be replayed with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './helpers.ts';

const TOKEN = 'fuzz-token-7f3a';
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const TIME_BUDGET_MS = 60_000;
const CONCURRENCY = 8;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEGMENTS = [
  'api',
  'health',
  'detailed',
  'status',
  'stream',
  'start',
  'stop',
  'restart',
  'cleanup',
  'logs',
  'openapi.json',
  'snapshot.jpg',
  'player',
  'hls.min.js',
  'hls.worker.js',
  'player.js',
  'player.css',
  'hls',
  'desktop',
  'playlist.m3u8',
  '..',
  '.',
  '',
  '%2e%2e',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '\u00e9',
  '~',
  'a'.repeat(300),
];
const KNOWN_PATHS = [
  '/api/health',
  '/api/status',
  '/api/health/detailed',
  '/api/logs',
  '/api/logs/stream',
  '/api/openapi.json',
  '/api/snapshot.jpg',
  '/api/stream/start',
  '/api/stream/stop',
  '/api/stream/restart',
  '/api/stream/cleanup',
  '/player',
  '/player/player.js',
  '/player/player.css',
  '/',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const QUERY_KEYS = ['level', 'limit', 'since', 'x', 'level[]', '__proto__', 'constructor'];
const QUERY_VALUES = [
  'info',
  'warn',
  'fatal',
  'LOUD',
  '0',
  '1',
  '2000',
  '2001',
  '-1',
  '1e3',
  '9'.repeat(30),
  'NaN',
  '2026-01-01T00:00:00Z',
  'yesterday',
  '',
  '%',
  '%00',
  '<script>',
  "'",
  '"',
];

describe('fuzz: random requests never cause a 5xx', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ apiToken: TOKEN, deps: { options: { sseHeartbeatMs: 50 } } });
    // Control calls with the right token succeed but keep the fake streaming, so /api/health's
    // only legitimate 5xx (503 = unhealthy) cannot happen and any 5xx is a real failure.
    const noop = async () => {};
    Object.assign(server.supervisor, { startStreaming: noop, stopStreaming: noop, restart: noop });
  });
  after(() => server.close());

  it(`${REQUESTS} random requests`, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const { port } = new URL(server.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const started = Date.now();

    function randomRequest() {
      const depth = 1 + Math.floor(random() * 4);
      let path =
        random() < 0.6
          ? pick(KNOWN_PATHS)
          : `/${Array.from({ length: depth }, () => pick(SEGMENTS)).join('/')}`;
      if (random() < 0.1) path += '/';
      if (random() < 0.4) {
        const n = 1 + Math.floor(random() * 3);
        path += `?${Array.from({ length: n }, () => `${pick(QUERY_KEYS)}=${encodeURIComponent(pick(QUERY_VALUES))}`).join('&')}`;
      }
      path = encodeURI(decodeURISafe(path));
      const headers: Record<string, string> = {};
      const auth = random();
      if (auth < 0.2) headers.Authorization = `Bearer ${TOKEN}`;
      else if (auth < 0.35)
        headers.Authorization = pick([
          'Bearer',
          'Bearer x',
          'Basic Zm9vOmJhcg==',
          `Bearer ${TOKEN} extra`,
          'bearer  ',
        ]);
      if (random() < 0.2)
        headers.Accept = pick(['text/html', 'application/json', '*/*', 'text/event-stream']);
      if (random() < 0.2)
        headers['Content-Type'] = pick(['application/json', 'text/plain', 'multipart/form-data; boundary=x']);
      if (random() < 0.1) headers['X-Forwarded-For'] = pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1']);
      let body: Buffer | undefined;
      if (random() < 0.3) {
        const size = pick([0, 1, 100, 16 * 1024, 16 * 1024 + 1, 40 * 1024]);
        body = Buffer.alloc(size, pick(['{', 'a', '\u0000']));
      }
      return { method: pick(METHODS), path, headers, body };
    }

    function send(request: ReturnType<typeof randomRequest>): Promise<void> {
      return new Promise((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            agent,
            method: request.method,
            path: request.path,
            headers: request.headers,
            timeout: 10_000,
          },
          (res) => {
            const status = res.statusCode ?? 0;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status >= 500) failures.push(`${request.method} ${request.path} → ${status}`);
            if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
              req.destroy(); // a live tail never ends by itself
              resolve();
              return;
            }
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              if (text.length < 4096) text += chunk;
            });
            res.on('end', () => {
              if (/\bat .*\.(ts|js):\d+:\d+/.test(text) && !request.path.startsWith('/player/')) {
                failures.push(`${request.method} ${request.path} → stack trace in body`);
              }
              resolve();
            });
            res.on('error', () => resolve());
          },
        );
        req.on('timeout', () => {
          failures.push(`${request.method} ${request.path} → no answer in 10 s`);
          req.destroy();
        });
        // EPIPE/ECONNRESET when the server refuses a large body early (413 + close) is fine.
        req.on('error', () => resolve());
        req.end(request.body);
      });
    }

    let sent = 0;
    async function worker() {
      while (sent < REQUESTS && Date.now() - started < TIME_BUDGET_MS) {
        sent += 1;
        await send(randomRequest());
      }
    }
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      agent.destroy();
    }
    const summary = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
    console.log(`fuzz seed=${seed} sent=${sent} in ${Date.now() - started} ms; statuses ${summary}`);
    assert.deepEqual(failures.slice(0, 20), [], `seed ${seed}`);
    assert.ok(sent >= Math.min(REQUESTS, 500), `only ${sent} requests in the time budget`);

    const health = await fetch(`${server.url}/api/health`);
    assert.equal(health.status, 200, 'the server still answers');
    await health.body?.cancel();
  });

  it('malformed HTTP gets a 4xx from the parser and the server keeps going', async () => {
    const { port } = new URL(server.url);
    const garbage = [
      'GARBAGE\r\n\r\n',
      'GET /api/health HTTP/9.9\r\n\r\n',
      'GET  HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /\u0001 HTTP/1.1\r\n\r\n',
      'POST /api/stream/restart HTTP/1.1\r\nContent-Length: -5\r\n\r\n',
      `GET /${'x'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(2000)}\r\n`,
    ];
    for (const request of garbage) {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(request));
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          data += chunk;
        });
        socket.on('close', () => resolve(data));
        socket.on('error', () => resolve(data));
        socket.setTimeout(5000, () => socket.destroy());
      });
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      assert.ok(
        status === 0 || (status >= 400 && status < 500),
        `${JSON.stringify(request.slice(0, 40))} → ${answer.slice(0, 60)}`,
      );
    }
    const health = await fetch(`${server.url}/api/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  });
});

function decodeURISafe(text: string): string {
  try {
    return decodeURI(text);
  } catch {
    return text;
  }
}

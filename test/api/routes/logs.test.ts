import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseLogQuery, selectLines } from '../../../src/api/routes/logs.ts';
import { type LogLine, LogRing } from '../../../src/logger.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

/** Counts live subscribers, to see that a disconnected SSE client is cleaned up. */
class CountingRing extends LogRing {
  active = 0;
  override subscribe(listener: (line: LogLine) => void): () => void {
    this.active += 1;
    const unsubscribe = super.subscribe(listener);
    let done = false;
    return () => {
      if (!done) this.active -= 1;
      done = true;
      return unsubscribe();
    };
  }
}

function line(time: number, level: string, msg: string): LogLine {
  return { time, level, module: 'test', msg, record: { time, msg } };
}

describe('parseLogQuery / selectLines (pure)', () => {
  it('defaults', () => {
    assert.deepEqual(parseLogQuery({}), { level: null, limit: 200, since: null });
  });
  it('accepts valid values; since as epoch ms or ISO', () => {
    assert.deepEqual(parseLogQuery({ level: 'warn', limit: '5', since: '1700000000000' }), {
      level: 'warn',
      limit: 5,
      since: 1_700_000_000_000,
    });
    assert.equal(parseLogQuery({ since: '2026-01-01T00:00:00Z' }).since, Date.parse('2026-01-01T00:00:00Z'));
  });
  for (const [name, value] of [
    ['level', 'loud'],
    ['limit', '0'],
    ['limit', '2001'],
    ['limit', '1.5'],
    ['limit', '-3'],
    ['since', 'yesterday'],
  ] as const) {
    it(`rejects ${name}=${value} naming the parameter and what is allowed`, () => {
      assert.throws(
        () => parseLogQuery({ [name]: value }),
        (err: Error & { status?: number; details?: { parameter: string } }) =>
          err.status === 400 && err.details?.parameter === name && err.message.includes(value),
      );
    });
  }
  it('rejects a parameter given twice', () => {
    assert.throws(() => parseLogQuery({ level: ['info', 'warn'] }), /"level" is given more than once/);
  });
  it('selects the newest matching lines, oldest first', () => {
    const lines = [line(1, 'info', 'a'), line(2, 'debug', 'b'), line(3, 'error', 'c'), line(4, 'warn', 'd')];
    assert.deepEqual(
      selectLines(lines, { level: 'info', limit: 2, since: null }).map((l) => l.msg),
      ['c', 'd'],
    );
    assert.deepEqual(
      selectLines(lines, { level: null, limit: 10, since: 2 }).map((l) => l.msg),
      ['c', 'd'],
    );
  });
});

describe('GET /api/logs and /api/logs/stream', () => {
  let server: TestServer;
  const ring = new CountingRing(100);
  before(async () => {
    server = await startTestServer({
      logRing: ring,
      deps: { options: { sseHeartbeatMs: 100, maxLogStreams: 2 } },
    });
    server.deps.logger.info({ module: 'capture' }, 'first line');
    server.deps.logger.warn({ module: 'pipeline' }, 'second line');
    server.deps.logger.error({ module: 'pipeline', token: 'tok-should-not-appear' }, 'third line');
  });
  after(() => server.close());

  it('returns lines from the ring, filtered by level, limited', async () => {
    const res = await fetch(`${server.url}/api/logs?level=warn&limit=5`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      count: number;
      lines: { msg: string; level: string; module: string }[];
    };
    assert.deepEqual(
      body.lines.map((l) => [l.level, l.msg]),
      [
        ['warn', 'second line'],
        ['error', 'third line'],
      ],
    );
    assert.equal(body.count, 2);
    assert.ok(!JSON.stringify(body).includes('tok-should-not-appear'), 'pino redaction applies');
  });

  it('400 naming the parameter', async () => {
    const res = await fetch(`${server.url}/api/logs?limit=lots`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { parameter: string; allowed: string; message: string };
    assert.equal(body.parameter, 'limit');
    assert.match(body.allowed, /1 to 2000/);
  });

  it('streams backlog, live lines and heartbeats as SSE, and unsubscribes when the client goes away', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/logs/stream?level=info&limit=1`, {
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(/third line/);
    assert.ok(!text.includes('second line'), 'limit=1 replays only the newest line');
    assert.equal(ring.active, 1);
    server.deps.logger.debug('below the level filter');
    server.deps.logger.info({ module: 'hls' }, 'live line');
    await readUntil(/event: log\ndata: \{[^\n]*"live line"/);
    await readUntil(/: heartbeat /);
    assert.ok(!text.includes('below the level filter'));

    controller.abort();
    const deadline = Date.now() + 3000;
    while ((ring.active as number) !== 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(ring.active, 0, 'subscription removed after disconnect');

    const still = await fetch(`${server.url}/api/health`);
    assert.equal(still.status, 200, 'server still answers');
    await still.body?.cancel();
  });

  it('bounds the number of live tails (429 with Retry-After), and frees a slot on disconnect', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const open = await Promise.all(
      controllers.map((c) => fetch(`${server.url}/api/logs/stream`, { signal: c.signal })),
    );
    assert.deepEqual(
      open.map((r) => r.status),
      [200, 200],
    );
    const third = await fetch(`${server.url}/api/logs/stream`);
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '30');
    assert.equal(((await third.json()) as { error: string }).error, 'too_many_requests');
    controllers[0]!.abort();
    const deadline = Date.now() + 3000;
    let again: Response | null = null;
    while (Date.now() < deadline) {
      const c = new AbortController();
      controllers.push(c);
      const res = await fetch(`${server.url}/api/logs/stream`, { signal: c.signal });
      if (res.status === 200) {
        again = res;
        break;
      }
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(again, 'a slot was freed');
    for (const c of controllers) c.abort();
  });
});

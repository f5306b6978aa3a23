import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createWhepRouter, type WhepSource } from '../../../src/api/routes/whep.ts';
import { MAX_OFFER_BYTES, parseVideoOffer } from '../../../src/webrtc/offer.ts';
import { WhepCapacityError } from '../../../src/webrtc/whep-sessions.ts';
import { startTestServer, supervisorSnapshot, type TestServer } from '../helpers.ts';

const TOKEN = 'openapi-test-token';

interface Operation {
  responses: Record<
    string,
    {
      content?: Record<string, { schema: unknown }>;
      headers?: Record<string, { schema: { pattern?: string } }>;
    }
  >;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** A browser-like WHEP offer: one recvonly video section with H.264, packetization-mode 1. */
const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 102',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  '',
].join('\r\n');

/** WhepSessions' contract without the WebRTC stack: the real offer parser, a place count, ids. */
class FakeWhep implements WhepSource {
  full = false;
  readonly ids = new Set<string>();
  async open(offer: string): Promise<{ id: string; answer: string }> {
    parseVideoOffer(offer);
    if (this.full) throw new WhepCapacityError('all 1 WebRTC viewer places are taken (webrtc.max_viewers)');
    const id = randomUUID();
    this.ids.add(id);
    return { id, answer: OFFER.replace('a=recvonly', 'a=sendonly') };
  }
  close(id: string): boolean {
    return this.ids.delete(id);
  }
}

/** Pointer into the document, escaped per RFC 6901. */
function pointer(...parts: string[]): string {
  return parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

describe('OpenAPI document vs real responses', () => {
  let server: TestServer;
  let doc: Doc;
  let ajv: Ajv2020;
  const exercised = new Set<string>();
  const whep = new FakeWhep();

  before(async () => {
    server = await startTestServer({
      apiToken: TOKEN,
      deps: {
        snapshotJpeg: () => Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
        extraRouters: [createWhepRouter(whep)],
      },
    });
    const res = await fetch(`${server.url}/api/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Doc;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc as object, 'openapi.json');
  });
  after(() => server.close());

  async function check(method: string, path: string, init: RequestInit = {}, docPath = path.split('?')[0]!) {
    const res = await fetch(`${server.url}${path}`, { method: method.toUpperCase(), ...init });
    const operation = doc.paths[docPath]?.[method];
    assert.ok(operation, `${method.toUpperCase()} ${docPath} is documented`);
    const response = operation.responses[String(res.status)];
    assert.ok(response, `${method.toUpperCase()} ${path}: status ${res.status} is documented`);
    exercised.add(`${method} ${docPath}`);
    if (!response.content) {
      assert.equal(
        await res.text(),
        '',
        `${method.toUpperCase()} ${path} ${res.status}: documented without a body`,
      );
      return res.status;
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
    const content = response.content?.[type];
    assert.ok(content, `${method.toUpperCase()} ${path} ${res.status}: content type ${type} is documented`);
    if (type === 'application/json') {
      const validate = ajv.getSchema(
        `openapi.json#/${pointer('paths', docPath, method, 'responses', String(res.status), 'content', type, 'schema')}`,
      );
      assert.ok(validate, 'schema compiles');
      const body = await res.json();
      assert.ok(
        validate(body),
        `${method.toUpperCase()} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
      );
    } else {
      await res.body?.cancel();
    }
    return res.status;
  }

  it('is OpenAPI 3.1', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  it('the schemas really constrain (a wrong body fails)', () => {
    const validate = ajv.getSchema(`openapi.json#/${pointer('components', 'schemas', 'Health')}`)!;
    assert.equal(validate({}), false);
    assert.equal(validate({ current_state: 'PLAYING' }), false);
    const status = ajv.getSchema(`openapi.json#/${pointer('components', 'schemas', 'Status')}`)!;
    assert.equal(status({ service: {}, stream: {}, health: {}, system: {} }), false);
  });

  it('/api/health 200 and 503', async () => {
    assert.equal(await check('get', '/api/health'), 200);
    server.supervisor.current = supervisorSnapshot({ state: 'no_signal', lastError: null, capture: null });
    try {
      assert.equal(await check('get', '/api/health'), 503);
      assert.equal(await check('get', '/api/health/detailed'), 200, 'capture: null is documented');
    } finally {
      server.supervisor.current = supervisorSnapshot();
    }
  });

  it('/api/status, /api/health/detailed, /api/snapshot.jpg', async () => {
    await check('get', '/api/status');
    await check('get', '/api/health/detailed');
    await check('get', '/api/snapshot.jpg');
  });

  it('/api/logs 200 and 400', async () => {
    server.deps.logger.info('a line for the log page');
    assert.equal(await check('get', '/api/logs?limit=3'), 200);
    assert.equal(await check('get', '/api/logs?level=nope'), 400);
  });

  it('/api/logs/stream 200 (event stream) and 400', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/logs/stream`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.ok(doc.paths['/api/logs/stream']!.get!.responses['200']!.content!['text/event-stream']);
    controller.abort();
    exercised.add('get /api/logs/stream');
    assert.equal(await check('get', '/api/logs/stream?since=never'), 400);
  });

  it('control endpoints: 200, 401, 405 as documented', async () => {
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    for (const action of ['start', 'stop', 'restart', 'cleanup']) {
      const path = `/api/stream/${action}`;
      assert.equal(await check('post', path, auth), 200);
      assert.equal(await check('post', path), 401);
      const wrong = await fetch(`${server.url}${path}`);
      assert.equal(wrong.status, 405);
      const validate = ajv.getSchema(
        `openapi.json#/${pointer('paths', path, 'post', 'responses', '405', 'content', 'application/json', 'schema')}`,
      )!;
      assert.ok(validate(await wrong.json()), ajv.errorsText(validate.errors));
    }
  });

  it('/player and /api/openapi.json', async () => {
    await check('get', '/player');
    await check('get', '/api/openapi.json');
  });

  it('/whep: 201 with Location, 400, 413, 415, 503 with Retry-After; OPTIONS 204 with Accept-Post', async () => {
    const sdp = { 'Content-Type': 'application/sdp' };
    let res = await fetch(`${server.url}/whep`, { method: 'POST', headers: sdp, body: OFFER });
    assert.equal(res.status, 201);
    const created = doc.paths['/whep']!.post!.responses['201']!;
    assert.match(res.headers.get('location') ?? '', new RegExp(created.headers!.Location!.schema.pattern!));
    assert.ok(created.content?.['application/sdp'], 'the answer is documented as application/sdp');
    await res.body?.cancel();
    assert.equal(await check('post', '/whep', { headers: sdp, body: OFFER }), 201);
    assert.equal(await check('post', '/whep', { headers: sdp, body: 'v=0\r\ns=-\r\n' }), 400, 'no video');
    assert.equal(
      await check('post', '/whep', { headers: sdp, body: `v=0\r\n${'a=x\r\n'.repeat(MAX_OFFER_BYTES / 5)}` }),
      413,
    );
    assert.equal(
      await check('post', '/whep', { headers: { 'Content-Type': 'text/plain' }, body: OFFER }),
      415,
    );
    whep.full = true;
    try {
      res = await fetch(`${server.url}/whep`, { method: 'POST', headers: sdp, body: OFFER });
      assert.equal(res.status, 503);
      assert.match(res.headers.get('retry-after') ?? '', /^[0-9]+$/);
      await res.body?.cancel();
      assert.equal(await check('post', '/whep', { headers: sdp, body: OFFER }), 503);
    } finally {
      whep.full = false;
    }
    res = await fetch(`${server.url}/whep`, { method: 'OPTIONS' });
    assert.equal(res.headers.get('accept-post'), 'application/sdp');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    await res.body?.cancel();
    assert.equal(await check('options', '/whep'), 204);
  });

  it('/whep/sessions/{id}: DELETE 200 then 404, PATCH 405, OPTIONS 204', async () => {
    const res = await fetch(`${server.url}/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: OFFER,
    });
    await res.body?.cancel();
    const session = res.headers.get('location')!;
    const docPath = '/whep/sessions/{id}';
    assert.equal(await check('delete', session, {}, docPath), 200);
    assert.equal(await check('delete', session, {}, docPath), 404);
    assert.equal(await check('patch', session, {}, docPath), 405);
    assert.equal(await check('options', session, {}, docPath), 204);
  });

  it('every documented operation was exercised above', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((key) => key !== 'parameters')
        .map((m) => `${m} ${path}`),
    );
    assert.deepEqual(
      documented.filter((op) => !exercised.has(op)),
      [],
    );
  });
});

describe('OpenAPI 403 answers', () => {
  it('control without a configured token: 403 matches the Error schema', async () => {
    const server = await startTestServer({ apiToken: null });
    try {
      const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Doc;
      const ajv = new Ajv2020({ strict: false });
      addFormats.default(ajv);
      ajv.addSchema(doc as object, 'openapi.json');
      const res = await fetch(`${server.url}/api/stream/restart`, { method: 'POST' });
      assert.equal(res.status, 403);
      const validate = ajv.getSchema(
        `openapi.json#/${pointer('paths', '/api/stream/restart', 'post', 'responses', '403', 'content', 'application/json', 'schema')}`,
      )!;
      assert.ok(validate(await res.json()), ajv.errorsText(validate.errors));
    } finally {
      await server.close();
    }
  });
});

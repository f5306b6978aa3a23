import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startTestServer, supervisorSnapshot, type TestServer } from '../helpers.ts';

const TOKEN = 'openapi-test-token';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Pointer into the document, escaped per RFC 6901. */
function pointer(...parts: string[]): string {
  return parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

describe('OpenAPI document vs real responses', () => {
  let server: TestServer;
  let doc: Doc;
  let ajv: Ajv2020;
  const exercised = new Set<string>();

  before(async () => {
    server = await startTestServer({
      apiToken: TOKEN,
      deps: { snapshotJpeg: () => Buffer.from([0xff, 0xd8, 0xff, 0xd9]) },
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

  it('every documented operation was exercised above', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
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

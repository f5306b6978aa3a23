/**
 * The API against the whole real system (`desktop-streamer run` on the two-monitor rig):
 * responses match the OpenAPI document, the status CLI judges health, control endpoints
 * really restart/stop/start the pipeline, and the built-in player plays it in Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { DetailedJson, HealthJson, StatusJson } from '../../src/api/health-model.ts';
import { OPENAPI_DOCUMENT } from '../../src/api/openapi.ts';
import { runStatus, type StatusIo } from '../../src/cli/status.ts';
import { launchChromium } from '../helpers/browser.ts';
import { parsePlaylist, type Stack, startStack } from '../helpers/stack.ts';

const TOKEN = 'e2e-api-token-5c1d';

function schemaFor(ajv: Ajv2020, path: string, status: string) {
  const pointerEscape = (p: string) => p.replaceAll('~', '~0').replaceAll('/', '~1');
  const validate = ajv.getSchema(
    `openapi.json#/paths/${pointerEscape(path)}/get/responses/${status}/content/application~1json/schema`,
  );
  assert.ok(validate, `${path} ${status} documented`);
  return validate;
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function quietIo(): StatusIo & { text: () => string } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => lines.push(l), env: {}, text: () => lines.join('\n') };
}

describe('API on the real supervisor', { timeout: 240_000 }, () => {
  let stack: Stack;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(OPENAPI_DOCUMENT as object, 'openapi.json');
  const auth = { Authorization: `Bearer ${TOKEN}` };

  before(async () => {
    stack = await startStack({ env: { DESKTOP_STREAMER_API_TOKEN: TOKEN } });
    await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2, 60_000);
  });
  after(async () => {
    await stack?.stop();
  });

  it('health, status and details are true and match the OpenAPI document', async () => {
    const healthResponse = await until(
      '/api/health 200',
      async () => {
        const res = await fetch(`${stack.baseUrl}/api/health`);
        if (res.status === 200) return res;
        await res.body?.cancel();
        return null;
      },
      30_000,
    );
    const health = (await healthResponse.json()) as HealthJson;
    const validateHealth = schemaFor(ajv, '/api/health', '200');
    assert.ok(validateHealth(health), ajv.errorsText(validateHealth.errors));
    assert.equal(health.current_state, 'PLAYING');
    assert.equal(health.stream_active, true);
    assert.equal(health.mediamtx_running, false);
    assert.ok(health.memory_usage_mb > 30, `supervisor + gst RSS ${health.memory_usage_mb} MB`);

    const status = (await (await fetch(`${stack.baseUrl}/api/status`)).json()) as StatusJson;
    const validateStatus = schemaFor(ajv, '/api/status', '200');
    assert.ok(validateStatus(status), ajv.errorsText(validateStatus.errors));
    assert.equal(status.stream.playlist_exists, true);
    assert.ok(status.stream.segment_count >= 2);

    const detailedText = await (await fetch(`${stack.baseUrl}/api/health/detailed`)).text();
    const detailed = JSON.parse(detailedText) as DetailedJson;
    const validateDetailed = schemaFor(ajv, '/api/health/detailed', '200');
    assert.ok(validateDetailed(detailed), ajv.errorsText(validateDetailed.errors));
    assert.equal(detailed.healthy, true);
    assert.equal(
      (detailed.capture as { monitor: { primary: boolean } }).monitor.primary,
      false,
      'second monitor',
    );
    const argv = detailed.pipeline.argv.join(' ');
    assert.match(argv, /ximagesrc/, argv);
    assert.match(argv, /mpegtsmux ! queue .*! fdsink fd=5/, argv);
    assert.ok(detailed.stream.segment_lag_seconds !== null && detailed.stream.segment_lag_seconds < 6);
    assert.ok(!detailedText.includes(TOKEN), 'token never in the details');
  });

  it('the status CLI says HEALTHY (exit 0)', async () => {
    const io = quietIo();
    assert.equal(await runStatus(['--url', stack.baseUrl], io), 0, io.text());
    assert.match(io.text(), /HEALTHY/);
  });

  it('POST /api/stream/restart needs the token and really restarts the pipeline', async () => {
    const refused = await fetch(`${stack.baseUrl}/api/stream/restart`, { method: 'POST' });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const pid = stack.pipelinePid();
    const res = await fetch(`${stack.baseUrl}/api/stream/restart`, { method: 'POST', headers: auth });
    assert.equal(res.status, 200, await res.text());
    await until('a new pipeline process', async () => (stack.pipelinePid() !== pid ? true : null), 30_000);
    const detailed = (await (await fetch(`${stack.baseUrl}/api/health/detailed`)).json()) as DetailedJson;
    assert.ok(detailed.restarts.by_reason.manual >= 1);
  });

  it('stop → /api/health 503 and the CLI exit 1; start → healthy again', async () => {
    const stop = await fetch(`${stack.baseUrl}/api/stream/stop`, { method: 'POST', headers: auth });
    assert.equal(stop.status, 200, await stop.text());
    const health = await fetch(`${stack.baseUrl}/api/health`);
    assert.equal(health.status, 503);
    const body = (await health.json()) as HealthJson;
    assert.equal(body.monitoring_active, false);
    const io = quietIo();
    assert.equal(await runStatus(['--url', stack.baseUrl], io), 1, io.text());

    const start = await fetch(`${stack.baseUrl}/api/stream/start`, { method: 'POST', headers: auth });
    assert.equal(start.status, 200, await start.text());
    await until(
      '/api/health 200 after start',
      async () => {
        const res = await fetch(`${stack.baseUrl}/api/health`);
        await res.body?.cancel();
        return res.status === 200 ? true : null;
      },
      60_000,
    );
  });

  it('the built-in player plays the real stream in Chromium', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${stack.baseUrl}/player`);
      const currentTime = async () =>
        Number(await page.evaluate("document.getElementById('video').currentTime"));
      await until('playback', async () => ((await currentTime()) > 0.5 ? true : null), 60_000);
      const first = await currentTime();
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const second = await currentTime();
      assert.ok(second - first > 2, `currentTime ${first} → ${second}`);
      if (process.env.PLAYER_SCREENSHOT) await page.screenshot({ path: process.env.PLAYER_SCREENSHOT });
    } finally {
      await browser.close();
    }
  });
});

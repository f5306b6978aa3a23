import assert from 'node:assert/strict';
import { test } from 'node:test';
import { methodLabel, routeLabel, UNMATCHED_ROUTE } from '../../src/metrics/http.ts';
import { fakeHostSource } from './fakes.ts';
import { startMetricsServer } from './server.ts';

test('routeLabel: router template, then ctx.state.metricsRoute, else "unmatched"', () => {
  assert.equal(routeLabel({ _matchedRoute: '/api/items/:id', state: {} }), '/api/items/:id');
  assert.equal(routeLabel({ state: { metricsRoute: '/player' } }), '/player');
  assert.equal(routeLabel({ _matchedRoute: /re/, state: {} }), UNMATCHED_ROUTE);
  assert.equal(routeLabel({}), UNMATCHED_ROUTE);
  assert.equal(methodLabel('get'), 'GET');
  assert.equal(methodLabel('PROPFIND'), 'other');
});

test('GET /metrics over real HTTP: content type, and requests counted by route template, not raw path', async (t) => {
  const server = await startMetricsServer({ hostSource: fakeHostSource(), defaultMetrics: false });
  t.after(() => server.close());
  for (const id of ['1', '2', '3']) await (await fetch(`${server.url}/api/items/${id}`)).text();
  for (const file of ['seg-000001.ts', 'seg-000002.ts'])
    await (await fetch(`${server.url}/hls/desktop/${file}`)).arrayBuffer();
  for (let i = 0; i < 4; i++) await (await fetch(`${server.url}/random/${i}/${'x'.repeat(i)}`)).text();
  assert.equal((await fetch(`${server.url}/api/boom`)).status, 500);
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const text = await response.text();
  assert.match(
    text,
    /^desktop_streamer_http_requests_total\{method="GET",route="\/api\/items\/:id",code="200"\} 3$/m,
  );
  assert.match(
    text,
    /^desktop_streamer_http_requests_total\{method="GET",route="\/hls\/desktop\/:file",code="200"\} 2$/m,
  );
  assert.match(
    text,
    /^desktop_streamer_http_requests_total\{method="GET",route="unmatched",code="404"\} 4$/m,
  );
  assert.match(
    text,
    /^desktop_streamer_http_requests_total\{method="GET",route="\/api\/boom",code="500"\} 1$/m,
  );
  assert.doesNotMatch(text, /route="\/random/, 'raw paths never become label values');
  assert.match(
    text,
    /^desktop_streamer_http_request_duration_seconds_count\{method="GET",route="\/api\/items\/:id"\} 3$/m,
  );
  // The scrape itself is counted once it has finished.
  const again = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(
    again,
    /^desktop_streamer_http_requests_total\{method="GET",route="\/metrics",code="200"\} 1$/m,
  );
});

/**
 * /metrics of the real supervisor (desktop-streamer run) capturing the two-monitor rig with the
 * real gst-launch-1.0: every series of docs/metrics.md is exposed, promtool is clean, and the values
 * describe what is really happening (the real child's /proc, real segments, the rig's geometry).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readProcessStats } from '../../src/system/proc-process.ts';
import { parsePlaylist, type Stack, startStack } from '../helpers/stack.ts';

const FIXTURE_SYSFS = fileURLToPath(new URL('../fixtures/sysfs', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/metrics.md', import.meta.url));

/** `name{labels} value` lines of an exposition, as [series, value]. */
function samples(text: string): [string, number][] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const cut = line.lastIndexOf(' ');
      return [line.slice(0, cut), Number(line.slice(cut + 1))];
    });
}

function value(text: string, series: string): number {
  const found = samples(text).filter(([name]) => name === series);
  assert.equal(found.length, 1, `exactly one ${series}`);
  return found[0]![1];
}

describe('/metrics of the real supervisor on the rig', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({ config: { sysfs_root: FIXTURE_SYSFS, kiosk_name: 'e2e-kiosk', fps: 15 } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('exposes every documented series, promtool-clean, with live values', async (t) => {
    await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 3, 60_000);
    const response = await fetch(`${stack.baseUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();

    const lint = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    assert.equal(`${lint.stdout}${lint.stderr}`, '', 'promtool check metrics prints nothing');
    assert.equal(lint.exitCode, 0);

    const documented = [
      ...(await readFile(DOC, 'utf8')).matchAll(/^\|\s*`(desktop_streamer_[a-z0-9_]+)`/gm),
    ].map((m) => m[1]!);
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    assert.deepEqual(
      documented.filter((name) => !typed.has(name)),
      [],
      'documented series missing from the real /metrics',
    );

    assert.equal(value(text, 'desktop_streamer_pipeline_up'), 1);
    assert.equal(value(text, 'desktop_streamer_pipeline_state{state="streaming"}'), 1);
    assert.match(
      text,
      /^desktop_streamer_capture_info\{kiosk="e2e-kiosk",monitor="DUMMY1",output="DUMMY1",geometry="1280x720\+1920\+0",encoder="x264enc",width="\d+",height="\d+",fps="15"\} 1$/m,
    );
    assert.ok(value(text, 'desktop_streamer_hls_segments_written_total') >= 3);
    assert.ok(value(text, 'desktop_streamer_hls_last_segment_timestamp_seconds') > Date.now() / 1000 - 60);
    assert.ok(value(text, 'desktop_streamer_hls_segment_lag_seconds') < 10);
    assert.ok(value(text, 'desktop_streamer_hls_output_bitrate_bytes_per_second') > 0);
    assert.ok(value(text, 'desktop_streamer_hls_segment_duration_seconds_count') >= 3);
    assert.ok(value(text, 'desktop_streamer_hls_segments_on_disk') >= 3);
    const fps = value(text, 'desktop_streamer_hls_output_frames_per_second');
    t.diagnostic(
      `fps ${fps}, bytes/s ${value(text, 'desktop_streamer_hls_output_bitrate_bytes_per_second')}, lag ${value(text, 'desktop_streamer_hls_segment_lag_seconds')}`,
    );
    assert.ok(Number.isNaN(fps) || (fps > 5 && fps < 25), `measured fps ${fps}`);

    // The gst-launch child, read from the real /proc by the supervisor and here.
    const pid = stack.pipelinePid();
    assert.ok(pid, 'pipeline pid known');
    const stats = await readProcessStats('/proc', pid);
    assert.ok(stats, 'the pipeline process is alive');
    assert.ok(value(text, 'desktop_streamer_pipeline_process_threads') > 1);
    assert.ok(value(text, 'desktop_streamer_pipeline_process_resident_memory_bytes') > 10 * 2 ** 20);
    const cpu = value(text, 'desktop_streamer_pipeline_process_cpu_seconds_total');
    assert.ok(cpu > 0 && cpu <= stats.cpuSeconds, `cpu ${cpu} vs ${stats.cpuSeconds} now`);

    assert.equal(value(text, 'desktop_streamer_drm_memory_vram_used_bytes{card="card0"}'), 274579456);
    assert.ok(value(text, 'desktop_streamer_host_memory_total_bytes') > 0);
    for (const [series, v] of samples(text).filter(([name]) =>
      name.startsWith('desktop_streamer_scrape_collector_success'),
    )) {
      assert.equal(v, 1, series);
    }
    assert.ok(value(text, 'desktop_streamer_config_bitrate_bytes_per_second') > 0);
  });

  it('counts API and HLS requests by route template', async () => {
    await (await fetch(`${stack.baseUrl}/hls/desktop/playlist.m3u8`)).text();
    await (await fetch(`${stack.baseUrl}/hls/desktop/no-such-segment.ts`)).text();
    const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    assert.match(
      text,
      /^desktop_streamer_http_requests_total\{method="GET",route="\/hls\/desktop\/playlist\.m3u8",code="200"\} \d+$/m,
    );
    assert.match(
      text,
      /^desktop_streamer_http_requests_total\{method="GET",route="\/metrics",code="200"\} \d+$/m,
    );
    assert.doesNotMatch(text, /route="[^"]*no-such-segment/);
  });
});

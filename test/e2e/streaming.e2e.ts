import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dominant, meanColour } from '../helpers/frames.ts';
import { parsePlaylist, type Stack, startStack } from '../helpers/stack.ts';

describe('streaming core on the two-monitor rig', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('serves a live playlist of the second monitor over HTTP', async () => {
    const text = await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2, 60_000);
    assert.match(text, /^#EXTM3U\n/);
    assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
    assert.match(text, /#EXT-X-PROGRAM-DATE-TIME:\d{4}-\d\d-\d\dT/);
    const response = await fetch(`${stack.baseUrl}/hls/desktop/playlist.m3u8`);
    assert.equal(response.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    const segment = parsePlaylist(text).segments[0]!;
    const segmentResponse = await fetch(`${stack.baseUrl}/hls/desktop/${segment}`);
    assert.equal(segmentResponse.status, 200);
    assert.equal(segmentResponse.headers.get('content-type'), 'video/mp2t');
    assert.ok((await segmentResponse.arrayBuffer()).byteLength > 1000);
  });

  it('ffmpeg reads the HLS URL and the picture is the second (blue) monitor, not the first (red)', async () => {
    const colour = await meanColour(`${stack.baseUrl}/hls/desktop/playlist.m3u8`);
    assert.equal(dominant(colour), 'blue', JSON.stringify(colour));
  });

  it('taps the picture: a JPEG snapshot of the second monitor and brightness/freshness metrics', async () => {
    await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2);
    const response = await fetch(`${stack.baseUrl}/api/snapshot.jpg`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    const file = join(await mkdtemp(join(tmpdir(), 'ds-snap-')), 'snapshot.jpg');
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    assert.equal(dominant(await meanColour(file)), 'blue');
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    const brightness = Number(/^desktop_streamer_picture_brightness_ratio (\S+)$/m.exec(metrics)?.[1]);
    const unchanged = Number(/^desktop_streamer_picture_unchanged_seconds (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(brightness > 0.02 && brightness < 0.5, `a blue screen is darkish grey in luma: ${brightness}`);
    assert.ok(unchanged >= 0 && unchanged < 600, `unchanged seconds: ${unchanged}`);
  });

  it('comes back after kill -9 of the pipeline, the media sequence continuing with a discontinuity', async () => {
    const before = parsePlaylist(await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2));
    const lastBefore = before.mediaSequence + before.segments.length - 1;
    const pid = stack.pipelinePid();
    assert.ok(pid, 'pipeline pid known');
    process.kill(pid, 'SIGKILL');
    const text = await stack.waitForPlaylist((t) => {
      const p = parsePlaylist(t);
      return p.discontinuities >= 1 && p.mediaSequence + p.segments.length - 1 > lastBefore + 1;
    }, 60_000);
    const after = parsePlaylist(text);
    assert.ok(after.mediaSequence >= before.mediaSequence, 'media sequence never goes backwards');
    assert.notEqual(stack.pipelinePid(), pid, 'a new pipeline process runs');
    const restart = stack.logs.find((r) => r.msg === 'restarting the pipeline');
    assert.equal(restart?.reason, 'exited');
    assert.equal(dominant(await meanColour(`${stack.baseUrl}/hls/desktop/playlist.m3u8`)), 'blue');
  });
});

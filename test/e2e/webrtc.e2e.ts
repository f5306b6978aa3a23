/**
 * WebRTC (WHEP) end to end: the real supervisor on the two-monitor rig (monitor 1 red, monitor 2
 * blue), Debian's headless Chromium as the viewer (RTCPeerConnection + <video>), node-datachannel
 * in the supervisor. The viewer must see monitor 2, stay connected through a kill -9 of the
 * pipeline and an unplug/replug of the monitor (no renegotiation: the supervisor owns the RTP
 * state), and nothing a client sends to /whep may stop the stream.
 *
 * Run alone (2 shared cores): node --import tsx --test test/e2e/webrtc.e2e.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { dominant } from '../helpers/frames.ts';
import { freeUdpPort, type Stack, startStack } from '../helpers/stack.ts';
import { WHEP_VIEWER_SCRIPT, type WhepReadout } from '../helpers/whep-page.ts';

const MAX_VIEWERS = 3;
/** Generous bound on a recovery (the benchmark measures the real figure: bench/README.md). */
const RESUME_BOUND_MS = 8_000;

async function readout(page: Page): Promise<WhepReadout> {
  return (await page.evaluate('window.__whep')) as WhepReadout;
}

/** What the supervisor decided to capture, and why it restarted: to explain a wrong picture. */
let captureHistory = (): string => '';

async function waitFor(page: Page, what: string, predicate: (r: WhepReadout) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: WhepReadout | null = null;
  while (Date.now() < deadline) {
    last = await readout(page);
    if (predicate(last)) return last;
    await sleep(100);
  }
  assert.fail(
    `${what}: not within ${timeoutMs} ms; last readout ${JSON.stringify({ ...last, frameTimes: undefined })}\n${captureHistory()}`,
  );
}

const colourOf = (r: WhepReadout) => (r.rgb ? dominant({ r: r.rgb[0], g: r.rgb[1], b: r.rgb[2] }) : null);

/** A browser viewer on its own page; every connection state it goes through is kept. */
async function openViewer(browser: Browser, stack: Stack): Promise<{ page: Page; states: string[] }> {
  const page = await browser.newPage();
  await page.goto(`${stack.baseUrl}/api/health`);
  const status = await page.evaluate(`(${WHEP_VIEWER_SCRIPT})('/whep')`);
  assert.equal(status, 201, `POST /whep answered ${status}: ${(await readout(page)).error}`);
  const states: string[] = [];
  await page.exposeFunction('__state', (state: string) => states.push(state));
  await page.evaluate(
    'window.__whepPc.addEventListener("connectionstatechange", () => window.__state(window.__whepPc.connectionState))',
  );
  return { page, states };
}

/** An offer made by Chromium (never sent to a peer): what a client can POST from anywhere. */
async function chromiumOffer(page: Page): Promise<string> {
  return (await page.evaluate(`(async () => {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    const offer = await pc.createOffer();
    pc.close();
    return offer.sdp;
  })()`)) as string;
}

async function metric(stack: Stack, name: string): Promise<number> {
  const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

describe('WebRTC (WHEP) end to end', { timeout: 240_000 }, () => {
  let stack: Stack;
  let browser: Browser;
  let viewer: { page: Page; states: string[] };

  before(async () => {
    stack = await startStack({
      config: {
        single_monitor_fallback: false,
        webrtc: { udp_port: await freeUdpPort(), max_viewers: MAX_VIEWERS },
      },
    });
    captureHistory = () =>
      stack.logs
        .filter((r) => r.level >= 30 && !/^Internal GStreamer error/.test(r.msg))
        .slice(-60)
        .map(
          (r) =>
            `${new Date(Number(r.time)).toISOString().slice(11, 23)} ${r.msg} ${JSON.stringify({ ...r, msg: undefined, time: undefined, level: undefined, pid: undefined, hostname: undefined })}`,
        )
        .join('\n');
    await stack.waitForPlaylist((text) => text.includes('#EXT-X-PART:'), 30_000);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a browser watches monitor 2 over WHEP: 201 with an SDP answer and a session URL, then blue frames', async () => {
    viewer = await openViewer(browser, stack);
    const seen = await waitFor(
      viewer.page,
      'blue frames in <video>',
      (r) => r.framesDecoded > 10 && colourOf(r) === 'blue',
    );
    assert.match(seen.location ?? '', /^\/whep\/sessions\/[0-9a-f-]{36}$/);
    assert.equal(seen.connectionState, 'connected');
    assert.equal(seen.videoWidth, 1280);
    assert.equal(await metric(stack, 'desktop_streamer_viewers{protocol="webrtc"}'), 1);
    assert.ok((await metric(stack, 'desktop_streamer_webrtc_sent_bytes_total')) > 0);
    assert.ok((await metric(stack, 'desktop_streamer_webrtc_sent_packets_total')) > 0);
  });

  it("the viewer's RTCP reports give RTT and loss: Chromium echoes our sender reports", async () => {
    // Sender reports go out every second and Chromium reports about as often.
    const deadline = Date.now() + 15_000;
    let rtt = Number.NaN;
    while (Date.now() < deadline && !Number.isFinite(rtt)) {
      await sleep(500);
      rtt = await metric(stack, 'desktop_streamer_webrtc_rtt_seconds{stat="max"}');
    }
    assert.ok(rtt >= 0 && rtt < 0.5, `RTT on loopback ${rtt} s`);
    const loss = await metric(stack, 'desktop_streamer_webrtc_loss_ratio{stat="max"}');
    assert.ok(loss >= 0 && loss <= 1, `loss ratio ${loss}`);
    assert.equal(await metric(stack, 'desktop_streamer_webrtc_packets_lost_total'), 0, 'no loss on loopback');
  });

  it('through kill -9 of the pipeline and unplug/replug of monitor 2 the viewer stays connected and video resumes', async () => {
    const { page, states } = viewer;
    const statesBefore = states.length;

    const pid = stack.pipelinePid();
    assert.ok(pid, 'a pipeline is running');
    const frames = (await readout(page)).framesDecoded;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await stack.waitForLog((r) => r.msg === 'pipeline process started' && r.pid !== pid, 20_000);
    const resumed = await waitFor(
      page,
      'frames after the kill',
      (r) => r.framesDecoded > frames + 5 && r.lastFrameAt > killedAt + 300,
      RESUME_BOUND_MS + 5_000,
    );
    assert.equal(colourOf(resumed), 'blue');

    await stack.rig.unplugSecond();
    await waitFor(
      page,
      'the slate after the unplug',
      (r) => colourOf(r) !== 'blue' && Date.now() - r.lastFrameAt < 500,
      30_000,
    );
    await stack.rig.replugSecond();
    await waitFor(
      page,
      'monitor 2 again after the replug',
      (r) => colourOf(r) === 'blue' && Date.now() - r.lastFrameAt < 500,
      30_000,
    );

    assert.deepEqual(states.slice(statesBefore), [], 'the connection state never changed');
    assert.equal((await readout(page)).connectionState, 'connected');
    assert.equal(await metric(stack, 'desktop_streamer_viewers{protocol="webrtc"}'), 1);
  });

  it('bad input gets a 4xx naming the problem, a full house a 503, and the stream goes on', async () => {
    const url = `${stack.baseUrl}/whep`;
    const post = (body: string, type = 'application/sdp') =>
      fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    const offer = await chromiumOffer(viewer.page);

    const garbage = await post('hello, I am not SDP');
    assert.equal(garbage.status, 400);
    assert.match(((await garbage.json()) as { message: string }).message, /v=0/);

    const audioOnly = offer.replace(
      /m=video[\s\S]*$/,
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n',
    );
    const noVideo = await post(audioOnly);
    assert.equal(noVideo.status, 400);
    assert.match(((await noVideo.json()) as { message: string }).message, /m=video/);

    const vp8Only = offer.replace(/a=rtpmap:(\d+) H264\/90000/g, 'a=rtpmap:$1 X-NONE/90000');
    const noH264 = await post(vp8Only);
    assert.equal(noH264.status, 400);
    assert.match(((await noH264.json()) as { message: string }).message, /H\.264/);

    assert.equal((await post(`v=0\r\n${'a=x\r\n'.repeat(50_000)}`)).status, 413);
    assert.equal((await post(offer, 'text/plain')).status, 415);
    assert.equal(
      (await fetch(`${url}/sessions/00000000-0000-0000-0000-000000000000`, { method: 'DELETE' })).status,
      404,
    );
    assert.equal((await fetch(`${url}/sessions/..%2f..%2fetc`, { method: 'DELETE' })).status, 404);
    const preflight = await fetch(url, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('accept-post'), 'application/sdp');

    // Offers that never connect still take a place until they time out: the cap holds.
    const opened: string[] = [];
    for (let i = 1; i < MAX_VIEWERS; i++) {
      const response = await post(await chromiumOffer(viewer.page));
      assert.equal(response.status, 201);
      opened.push(response.headers.get('location')!);
    }
    const full = await post(await chromiumOffer(viewer.page));
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers.get('retry-after')) > 0);
    for (const location of opened) {
      assert.equal((await fetch(`${stack.baseUrl}${location}`, { method: 'DELETE' })).status, 200);
    }

    const before = (await readout(viewer.page)).framesDecoded;
    await waitFor(viewer.page, 'frames still coming', (r) => r.framesDecoded > before + 10);
    assert.equal((await readout(viewer.page)).connectionState, 'connected');
    assert.ok(
      (await metric(stack, 'desktop_streamer_webrtc_sessions_total{event="rejected"}')) >= 4,
      'three bad offers and one over the cap',
    );
  });

  it('DELETE of the session ends it', async () => {
    const { location } = await readout(viewer.page);
    const response = await fetch(`${stack.baseUrl}${location}`, { method: 'DELETE' });
    assert.equal(response.status, 200);
    assert.equal((await fetch(`${stack.baseUrl}${location}`, { method: 'DELETE' })).status, 404);
    assert.equal(await metric(stack, 'desktop_streamer_webrtc_sessions'), 0);
    await waitFor(
      viewer.page,
      'the browser sees the connection end',
      (r) => r.connectionState !== 'connected',
      30_000,
    );
  });

  it('with every viewer gone, a new one still connects (the pipeline restarted earlier must not hold the UDP port)', async () => {
    // The kill -9 above started a gst-launch while a session was open; it inherited the UDP socket.
    assert.equal(await metric(stack, 'desktop_streamer_webrtc_sessions'), 0);
    const next = await openViewer(browser, stack);
    await waitFor(
      next.page,
      'blue frames for the new viewer',
      (r) => r.framesDecoded > 5 && colourOf(r) === 'blue',
    );
    await next.page.close();
  });
});

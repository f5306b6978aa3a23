/**
 * The built-in player: one page, its stylesheet and its script, served by routes/player.ts.
 * It plays WebRTC (WHEP, POST /whep) first and falls back to LL-HLS: hls.js comes from the npm
 * package (never a CDN); Safari plays HLS natively. `?protocol=webrtc|hls` picks one protocol.
 * Kept as strings so the build (tsc) ships them without a copy step.
 */

export const PLAYLIST_URL = '/hls/desktop/playlist.m3u8';
/** The WHEP endpoint (routes/whep.ts); same origin, so CSP's connect-src 'self' covers it. */
export const WHEP_URL = '/whep';

export const PLAYER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>desktop-streamer · live</title>
<link rel="icon" href="/player/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/player/player.css">
<script src="/player/hls.min.js" defer></script>
<script src="/player/player.js" defer></script>
</head>
<body>
<header>
  <h1><span class="dot" id="live-dot" aria-hidden="true"></span>desktop-streamer <span class="muted">live</span></h1>
  <a class="playlist" href="${PLAYLIST_URL}" title="HLS playlist for VLC, ffplay, Safari…">${PLAYLIST_URL}</a>
</header>
<main>
  <section class="stage">
    <video id="video" muted autoplay playsinline controls></video>
    <span class="latency-chip" id="latency-chip" hidden></span>
    <p class="notice" id="notice" role="status" hidden></p>
  </section>
  <aside class="panel" aria-label="Stream health">
    <div class="badge" id="badge" data-level="unknown">checking…</div>
    <dl id="health">
      <dt>Pipeline</dt><dd id="h-state">–</dd>
      <dt>Segments</dt><dd id="h-stream">–</dd>
      <dt>Restarts</dt><dd id="h-restarts">–</dd>
      <dt>Errors (recent / total)</dt><dd id="h-errors">–</dd>
      <dt>Uptime</dt><dd id="h-uptime">–</dd>
      <dt>Memory</dt><dd id="h-memory">–</dd>
      <dt>System memory</dt><dd id="h-sysmem">–</dd>
      <dt>Relay</dt><dd id="h-relay">–</dd>
    </dl>
    <div class="last-error" id="h-last-error" hidden></div>
    <h2>Player</h2>
    <dl>
      <dt>Protocol</dt><dd id="p-protocol">–</dd>
      <dt>Engine</dt><dd id="p-engine">–</dd>
      <dt>Stream</dt><dd id="p-mode">–</dd>
      <dt>Latency</dt><dd id="p-latency">–</dd>
      <dt>Buffer</dt><dd id="p-buffer">–</dd>
      <dt>Resolution</dt><dd id="p-resolution">–</dd>
      <dt>Recoveries</dt><dd id="p-recoveries">0</dd>
    </dl>
    <p class="protocol-note" id="p-note" role="status" hidden></p>
    <p class="links"><a href="/api/health/detailed">details</a> · <a href="/api/status">status</a> · <a href="/api/openapi.json">API</a></p>
  </aside>
</main>
</body>
</html>
`;

export const PLAYER_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect x="2" y="5" width="28" height="19" rx="3" fill="#171b22" stroke="#8b94a3" stroke-width="2"/>
<rect x="11" y="26" width="10" height="2" rx="1" fill="#8b94a3"/>
<circle cx="16" cy="14.5" r="4.5" fill="#e5484d"/>
</svg>
`;

export const PLAYER_CSS = `:root {
  --bg: #0e1116; --panel: #171b22; --line: #262c36; --text: #e6e9ef; --muted: #8b94a3;
  --ok: #2fbf71; --warn: #e0a526; --bad: #e5484d;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .25rem 1rem;
  padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.05rem; font-weight: 600; margin: 0; display: flex; align-items: center; gap: .5rem; white-space: nowrap; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 1.25rem 0 .5rem; }
.muted { color: var(--muted); font-weight: 400; }
.dot { width: .6rem; height: .6rem; border-radius: 50%; background: var(--muted); display: inline-block; }
.dot.live { background: var(--bad); box-shadow: 0 0 0 0 rgba(229,72,77,.6); animation: pulse 2s infinite; }
@keyframes pulse { 70% { box-shadow: 0 0 0 .45rem rgba(229,72,77,0); } 100% { box-shadow: 0 0 0 0 rgba(229,72,77,0); } }
a { color: #7db4ff; text-decoration: none; }
a:hover { text-decoration: underline; }
.playlist { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .8rem; color: var(--muted); }
main { flex: 1; display: grid; grid-template-columns: minmax(0, 1fr) 19rem; gap: 1.25rem; padding: 1.25rem; align-items: start; align-content: start; }
.stage { position: relative; background: #000; border-radius: .5rem; overflow: hidden; aspect-ratio: 16 / 9;
  border: 1px solid var(--line); }
video { width: 100%; height: 100%; display: block; background: #000; object-fit: contain; }
.latency-chip { position: absolute; top: .5rem; left: .5rem; padding: .1rem .45rem; border-radius: .3rem;
  background: rgba(14,17,22,.7); color: #c3cad5; font-size: .72rem; font-variant-numeric: tabular-nums;
  pointer-events: none; }
.latency-chip[hidden] { display: none; }
.notice { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%); margin: 0;
  padding: .6rem 1rem; border-radius: .4rem; background: rgba(14,17,22,.85); color: var(--text); font-size: .9rem;
  border: 1px solid var(--line); max-width: 80%; text-align: center; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.1rem; font-size: .88rem; }
.badge { display: inline-block; padding: .3rem .7rem; border-radius: 999px; font-weight: 600; font-size: .85rem;
  background: rgba(139,148,163,.15); color: var(--muted); }
.badge[data-level="ok"] { background: rgba(47,191,113,.15); color: var(--ok); }
.badge[data-level="warn"] { background: rgba(224,165,38,.15); color: var(--warn); }
.badge[data-level="bad"] { background: rgba(229,72,77,.15); color: var(--bad); }
dl { display: grid; grid-template-columns: auto 1fr; gap: .35rem .9rem; margin: .9rem 0 0; }
dt { color: var(--muted); }
dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
.last-error { margin-top: .8rem; padding: .5rem .6rem; border-left: 3px solid var(--bad); background: rgba(229,72,77,.08);
  font-family: ui-monospace, Menlo, monospace; font-size: .78rem; overflow-wrap: anywhere; }
.protocol-note { margin: .8rem 0 0; padding: .5rem .6rem; border-left: 3px solid var(--warn); background: rgba(224,165,38,.08);
  font-size: .8rem; overflow-wrap: anywhere; }
.protocol-note[hidden] { display: none; }
.links { margin: 1.25rem 0 0; color: var(--muted); font-size: .8rem; }
@media (max-width: 860px) { main { grid-template-columns: 1fr; padding: .75rem; gap: .75rem; } }
@media (max-width: 520px) { .playlist { display: none; } }
`;

export const PLAYER_JS = `'use strict';
(() => {
  const SRC = ${JSON.stringify(PLAYLIST_URL)};
  const WHEP = ${JSON.stringify(WHEP_URL)};
  const HEALTH_URL = '/api/health';
  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const notice = $('notice');
  const latencyChip = $('latency-chip');

  /** ?protocol=auto (default: WebRTC, else LL-HLS) | webrtc (only, retried) | hls (only). Anything else: auto. */
  function requestedProtocol() {
    try {
      const value = new URLSearchParams(window.location.search).get('protocol');
      return value === 'webrtc' || value === 'hls' ? value : 'auto';
    } catch {
      return 'auto';
    }
  }
  const REQUESTED = requestedProtocol();

  // The WebRTC side, read by tests: state (the RTCPeerConnection's connectionState, or idle/connecting/
  // failed/unsupported), reconnects (WebRTC sessions that played after an earlier one: reconnects and
  // switches back from HLS), location (the WHEP session URL), framesDecoded (this session's),
  // failures (attempts in a row that did not play), status (HTTP status of the last POST), message
  // (why WebRTC is not playing, e.g. the server's 503 message), jitterBufferMs (the receiver's
  // current jitter buffer delay), retryAt (epoch ms of the next attempt, null when none is planned).
  const webrtc = { state: 'idle', reconnects: 0, location: null, framesDecoded: 0, failures: 0, status: null,
    message: null, jitterBufferMs: null, retryAt: null };
  // Read by tests and benches: protocol ('webrtc' | 'hls': what the <video> plays or is about to),
  // latency (s behind live per EXT-X-PROGRAM-DATE-TIME; HLS only: Chromium gives no sender time of
  // WebRTC video frames), edgeLatency and targetLatency (hls.js', s), lowLatency (the playlist has
  // parts), errors (the last 50 hls.js errors).
  const state = { requested: REQUESTED, protocol: REQUESTED === 'hls' ? 'hls' : 'webrtc', engine: 'none',
    recoveries: 0, hls: null, lastMediaRecovery: 0, errors: [], latency: null, edgeLatency: null,
    targetLatency: null, lowLatency: null, jumps: 0, farBehindFor: 0, webrtc };
  window.__player = state;

  function say(text) {
    notice.hidden = !text;
    notice.textContent = text || '';
  }

  // ---- HLS (hls.js, or the browser's own HLS) ----
  let hlsActive = false;

  function startHlsJs() {
    const Hls = window.Hls;
    // Low-latency HLS: the target distance from the live edge is the playlist's PART-HOLD-BACK, and
    // playback speeds up to 1.5x to get back to it. hls.js lets a liveSync*/liveMaxLatency* value in
    // the instance config win over PART-HOLD-BACK, so none is given there. For a plain-HLS playlist
    // (no parts, no HOLD-BACK) hls.js falls back to liveSyncDurationCount target durations, taken from
    // Hls.DefaultConfig: 2 instead of its 3. liveMaxLatencyDurationCount (also a default, so it never
    // shadows PART-HOLD-BACK) seeks back to the live edge once playback is 6 target durations behind,
    // e.g. after a long stall.
    Hls.DefaultConfig = Object.assign({}, Hls.DefaultConfig, { liveSyncDurationCount: 2, liveMaxLatencyDurationCount: 6 });
    const hls = new Hls({
      workerPath: '/player/hls.worker.js',
      lowLatencyMode: true,
      maxLiveSyncPlaybackRate: 1.5,
      // No back-buffer trimming by hls.js (its default; the browser evicts played media itself when its
      // SourceBuffer quota fills). With a finite backBufferLength, hls.js 1.7 removes played media at
      // every segment change, and when that removal completes while a part is loaded but not yet
      // appended, it forgets the parts already appended of the segment being loaded; at that segment's
      // end it then loads nothing until the playlist stops listing that segment's parts: a 2-6 s
      // freeze, seen after pipeline restarts and in plain playback alike (bench/README.md, Glass to
      // player).
      backBufferLength: Infinity,
      manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 8000, maxLoadTimeMs: 10000,
        timeoutRetry: { maxNumRetry: 2, retryDelayMs: 500, maxRetryDelayMs: 2000 },
        errorRetry: { maxNumRetry: 2, retryDelayMs: 1000, maxRetryDelayMs: 4000 } } },
    });
    state.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      say('');
      video.play().catch(() => say('Press play to start'));
    });
    hls.on(Hls.Events.FRAG_BUFFERED, () => say(''));
    hls.on(Hls.Events.ERROR, (_event, data) => {
      state.errors.push({ at: Date.now(), type: String(data.type), details: String(data.details), fatal: Boolean(data.fatal) });
      if (state.errors.length > 50) state.errors.shift();
      // Non-fatal errors (a buffer stall, a retried load) are hls.js' own to recover from.
      if (!data.fatal) return;
      state.recoveries += 1;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        // Two media errors in a row: swap codecs once before recovering again (hls.js' documented recipe).
        const now = performance.now();
        if (now - state.lastMediaRecovery < 3000) hls.swapAudioCodec();
        state.lastMediaRecovery = now;
        say('Recovering from a media error…');
        hls.recoverMediaError();
      } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR && !String(data.details).startsWith('manifest')) {
        say('Network trouble, retrying…');
        setTimeout(() => { if (state.hls === hls) hls.startLoad(); }, 2000);
      } else {
        // Playlist unreachable (stream not started yet, supervisor restarting…) or unrecoverable: start over
        // (unless WebRTC took over the <video> meanwhile).
        say('Waiting for the stream…');
        hls.destroy();
        state.hls = null;
        setTimeout(() => { if (hlsActive && !state.hls) startHlsJs(); }, 3000);
      }
    });
    hls.loadSource(SRC);
    hls.attachMedia(video);
  }

  let nativeListening = false;
  function startNative() {
    video.src = SRC;
    if (nativeListening) return;
    nativeListening = true;
    const native = () => hlsActive && state.engine === 'native HLS';
    video.addEventListener('loadedmetadata', () => { if (native()) video.play().catch(() => say('Press play to start')); });
    video.addEventListener('error', () => {
      if (!native()) return;
      state.recoveries += 1;
      say('Waiting for the stream…');
      setTimeout(() => { if (native()) { video.src = SRC; video.load(); } }, 3000);
    });
  }

  function startHls() {
    if (hlsActive) return;
    hlsActive = true;
    state.protocol = 'hls';
    say('Connecting…');
    try {
      if (video.srcObject) video.srcObject = null;
    } catch {
      // Nothing attached.
    }
    if (window.Hls && window.Hls.isSupported()) {
      state.engine = 'hls.js ' + window.Hls.version;
      startHlsJs();
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      state.engine = 'native HLS';
      startNative();
    } else {
      state.engine = 'none';
      say('This browser cannot play HLS. Open ' + SRC + ' in VLC or ffplay.');
    }
  }

  /** WebRTC takes over the <video>. */
  function stopHls() {
    if (!hlsActive) return;
    hlsActive = false;
    if (state.hls) {
      try {
        state.hls.destroy();
      } catch {
        // Already torn down.
      }
      state.hls = null;
    }
    if (state.engine === 'native HLS') {
      video.removeAttribute('src');
      video.load();
    }
    state.latency = null;
    state.edgeLatency = null;
    state.targetLatency = null;
    state.lowLatency = null;
    state.farBehindFor = 0;
  }

  // ---- WebRTC (WHEP, RFC 9725) ----
  // One RTCPeerConnection with a recvonly H.264 video transceiver. The server takes no trickle ICE,
  // so the offer goes out once this side's gathering completes (or after GATHER_TIMEOUT_MS with what
  // it has); the answer carries the server's candidates. A pause in frames is no reason to reconnect
  // (the server keeps the connection through pipeline restarts): only the connection state is.
  //
  // auto: the first attempt that fails (refused, not connected within CONNECT_TIMEOUT_MS, no frame
  // within FIRST_FRAME_TIMEOUT_MS of connecting) falls back to HLS at once. A session that played and
  // was lost (failed/closed, or disconnected for DISCONNECTED_GRACE_MS) is reconnected with
  // exponential backoff and jitter (1 s, 2 s, 4 s…, at most BACKOFF_MAX_MS, never sooner than the
  // server's Retry-After); a session that lasted STABLE_SESSION_MS resets the backoff, a shorter one
  // counts as a failure. After AUTO_FALLBACK_AFTER failures in a row the page plays HLS and tries
  // WebRTC again every BACKGROUND_RETRY_MS, switching back once a connection is up (an attempt that
  // fell back at once is retried the same way). Refusals that waiting will not change (WebRTC off in
  // the config, no WHEP endpoint, no access, no H.264 in this browser) are not retried in auto.
  // webrtc: retried with backoff forever, never HLS.
  const GATHER_TIMEOUT_MS = 2000;
  const POST_TIMEOUT_MS = 10000;
  const CONNECT_TIMEOUT_MS = 5000;
  const FIRST_FRAME_TIMEOUT_MS = 8000;
  const DISCONNECTED_GRACE_MS = 5000;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const STABLE_SESSION_MS = 30000;
  const AUTO_FALLBACK_AFTER = 3;
  const BACKGROUND_RETRY_MS = 60000;
  const STATS_INTERVAL_MS = 500;

  let rtc = null; // the current attempt or session
  let retryTimer = null;
  let everPlayed = false; // some WebRTC session of this page has shown video
  let sessions = 0; // WebRTC sessions that showed video
  let pageGone = false;

  function errorText(error) {
    const text = error && error.message ? error.message : String(error);
    return text.slice(0, 300);
  }

  function refusal(message, status, retryAfterS, permanent) {
    const error = new Error(message);
    error.refusal = { status, retryAfterS, permanent };
    return error;
  }

  /** The message of a JSON error answer ({ error, message }), else the status text. */
  async function refusalMessage(response) {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // No body.
    }
    let message = '';
    try {
      const body = JSON.parse(text);
      if (body && typeof body.message === 'string') message = body.message;
    } catch {
      // Not JSON.
    }
    message = (message || response.statusText || 'refused').slice(0, 300);
    return 'HTTP ' + response.status + ': ' + message;
  }

  function retryAfterSeconds(response) {
    const value = Number(response.headers.get('Retry-After'));
    return Number.isFinite(value) && value > 0 ? Math.min(value, 600) : null;
  }

  function timeoutSignal(ms) {
    return typeof AbortSignal !== 'undefined' && typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined;
  }

  /** H.264 only (the stream is H.264); false when this browser cannot decode H.264 over WebRTC. */
  function preferH264(transceiver) {
    try {
      const caps = typeof RTCRtpReceiver !== 'undefined' && RTCRtpReceiver.getCapabilities
        ? RTCRtpReceiver.getCapabilities('video') : null;
      if (!caps || !caps.codecs) return true;
      const h264 = caps.codecs.filter((c) => String(c.mimeType).toLowerCase() === 'video/h264');
      if (h264.length === 0) return false;
      const rtx = caps.codecs.filter((c) => String(c.mimeType).toLowerCase() === 'video/rtx');
      if (typeof transceiver.setCodecPreferences === 'function') transceiver.setCodecPreferences(h264.concat(rtx));
    } catch {
      // The browser's default codecs then; the server picks H.264 among them.
    }
    return true;
  }

  function iceGathered(pc, ms) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, ms);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** DELETE the WHEP session (same origin only); keepalive so it still goes out while the page unloads. */
  function deleteSession(url) {
    if (!url) return;
    let target;
    try {
      target = new URL(url, window.location.href);
    } catch {
      return;
    }
    if (target.origin !== window.location.origin) return;
    try {
      fetch(target.href, { method: 'DELETE', keepalive: true, cache: 'no-store' }).catch(() => {});
    } catch {
      // Nothing more to do for a session the server also ends by itself.
    }
  }

  function later(s, ms, fn) {
    const timer = setTimeout(() => { if (rtc === s) fn(); }, ms);
    s.timers.push(timer);
    return timer;
  }

  function endSession(s) {
    if (!s) return;
    if (rtc === s) rtc = null;
    for (const timer of s.timers) clearTimeout(timer);
    clearInterval(s.statsTimer);
    // DELETE before close(): the server then ends the session for this reason, not for a lost connection.
    deleteSession(s.url);
    s.url = null;
    if (s.pc) {
      s.pc.ontrack = null;
      s.pc.onconnectionstatechange = null;
      try {
        s.pc.close();
      } catch {
        // Already closed.
      }
    }
    webrtc.jitterBufferMs = null;
  }

  function backoffMs(failures, retryAfterS) {
    const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, failures));
    const jittered = Math.min(BACKOFF_MAX_MS, exponential * (0.75 + Math.random() * 0.5));
    return Math.max(jittered, retryAfterS ? retryAfterS * 1000 : 0);
  }

  function scheduleWebRtc(ms) {
    clearTimeout(retryTimer);
    webrtc.retryAt = Date.now() + ms;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      webrtc.retryAt = null;
      connectWebRtc();
    }, ms);
  }

  async function connectWebRtc() {
    if (pageGone) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    endSession(rtc);
    const s = { pc: null, url: null, stream: null, connected: false, playing: false, connectedAt: 0,
      fromHls: hlsActive, timers: [], statsTimer: null, graceTimer: null, polling: false, jitter: null };
    rtc = s;
    webrtc.state = 'connecting';
    webrtc.status = null;
    webrtc.location = null;
    webrtc.framesDecoded = 0;
    if (!s.fromHls) say(everPlayed ? 'Reconnecting (WebRTC)…' : 'Connecting (WebRTC)…');
    try {
      const pc = new RTCPeerConnection();
      s.pc = pc;
      const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
      if (!preferH264(transceiver)) throw refusal('this browser cannot decode H.264 over WebRTC', null, null, true);
      pc.ontrack = (event) => {
        if (rtc !== s) return;
        s.stream = event.streams && event.streams[0] ? event.streams[0] : new MediaStream([event.track]);
        if (s.connected) show(s);
      };
      pc.onconnectionstatechange = () => onConnectionState(s);
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc, GATHER_TIMEOUT_MS);
      if (rtc !== s) return;
      let response;
      try {
        response = await fetch(WHEP, { method: 'POST', headers: { 'Content-Type': 'application/sdp' },
          body: pc.localDescription ? pc.localDescription.sdp : '', cache: 'no-store', signal: timeoutSignal(POST_TIMEOUT_MS) });
      } catch (error) {
        throw refusal('the server could not be reached (' + errorText(error) + ')', null, null, false);
      }
      if (rtc !== s) {
        if (response.status === 201) deleteSession(response.headers.get('Location'));
        return;
      }
      webrtc.status = response.status;
      if (response.status !== 201) {
        const status = response.status;
        const retryAfterS = retryAfterSeconds(response);
        // Answers that waiting will not change: no WHEP endpoint here (404, 405, 501), a body it does not
        // take (415), no access (401, 403), WebRTC off in the config (503 without Retry-After). A 400
        // is retried: the same browser's offers were answered before, and the server also says 400
        // when its WebRTC stack could not answer this once.
        const permanent = [401, 403, 404, 405, 415, 501].includes(status) || (status === 503 && retryAfterS === null);
        throw refusal(await refusalMessage(response), status, retryAfterS, permanent);
      }
      s.url = response.headers.get('Location');
      const answer = await response.text();
      if (rtc !== s) {
        deleteSession(s.url);
        return;
      }
      webrtc.location = s.url;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      later(s, CONNECT_TIMEOUT_MS, () => {
        if (!s.connected) attemptFailed(s, 'not connected within ' + CONNECT_TIMEOUT_MS / 1000 + ' s', null);
      });
      s.statsTimer = setInterval(() => pollWebRtcStats(s), STATS_INTERVAL_MS);
    } catch (error) {
      if (rtc === s) attemptFailed(s, errorText(error), error && error.refusal ? error.refusal : null);
    }
  }

  function onConnectionState(s) {
    if (rtc !== s || !s.pc) return;
    const connectionState = s.pc.connectionState;
    webrtc.state = connectionState;
    if (connectionState === 'connected') {
      clearTimeout(s.graceTimer);
      s.graceTimer = null;
      if (!s.connected) {
        s.connected = true;
        s.connectedAt = Date.now();
        show(s);
        later(s, FIRST_FRAME_TIMEOUT_MS, () => {
          if (!s.playing) attemptFailed(s, 'no video within ' + FIRST_FRAME_TIMEOUT_MS / 1000 + ' s of connecting', null);
        });
      }
    } else if (connectionState === 'disconnected') {
      // Consent checks failing for a moment (a busy network, a busy kiosk) often come back.
      if (s.connected && !s.graceTimer) {
        s.graceTimer = later(s, DISCONNECTED_GRACE_MS, () => lost(s, 'disconnected for ' + DISCONNECTED_GRACE_MS / 1000 + ' s'));
      }
    } else if (connectionState === 'failed' || connectionState === 'closed') {
      lost(s, 'connection ' + connectionState);
    }
  }

  /** The connection is up: the <video> plays it (HLS, if it was playing, stops). */
  function show(s) {
    stopHls();
    state.protocol = 'webrtc';
    state.engine = 'WebRTC (WHEP)';
    if (!s.stream) return;
    if (video.srcObject !== s.stream) video.srcObject = s.stream;
    video.play().catch((error) => { if (error && error.name === 'NotAllowedError') say('Press play to start'); });
  }

  function lost(s, why) {
    if (s.playing) sessionLost(s, why);
    else attemptFailed(s, why, null);
  }

  /** An attempt that never showed video. */
  function attemptFailed(s, why, refused) {
    if (rtc !== s) return;
    endSession(s);
    webrtc.failures += 1;
    webrtc.state = 'failed';
    webrtc.message = why;
    const retryAfterS = refused ? refused.retryAfterS : null;
    if (REQUESTED === 'webrtc') {
      const ms = backoffMs(webrtc.failures, retryAfterS);
      say('WebRTC: ' + why + '. Retrying in ' + Math.ceil(ms / 1000) + ' s…');
      scheduleWebRtc(ms);
      return;
    }
    const permanent = Boolean(refused && refused.permanent);
    if (hlsActive || s.fromHls || !everPlayed || permanent || webrtc.failures >= AUTO_FALLBACK_AFTER) {
      startHls();
      if (!permanent) scheduleWebRtc(Math.max(BACKGROUND_RETRY_MS, retryAfterS ? retryAfterS * 1000 : 0));
      return;
    }
    say('WebRTC: ' + why + '. Reconnecting…');
    scheduleWebRtc(backoffMs(webrtc.failures, retryAfterS));
  }

  /** A session that showed video is gone. */
  function sessionLost(s, why) {
    if (rtc !== s) return;
    const lasted = Date.now() - s.connectedAt;
    endSession(s);
    webrtc.failures = lasted >= STABLE_SESSION_MS ? 0 : webrtc.failures + 1;
    webrtc.state = 'reconnecting';
    webrtc.message = 'connection lost (' + why + ')';
    if (REQUESTED === 'auto' && webrtc.failures >= AUTO_FALLBACK_AFTER) {
      startHls();
      scheduleWebRtc(BACKGROUND_RETRY_MS);
      return;
    }
    say('WebRTC connection lost. Reconnecting…');
    scheduleWebRtc(backoffMs(webrtc.failures, null));
  }

  /** The receiver's stats: frames decoded (the first one makes the session "playing"), the jitter buffer's delay. */
  async function pollWebRtcStats(s) {
    if (rtc !== s || !s.pc || s.polling) return;
    s.polling = true;
    try {
      const report = await s.pc.getStats();
      if (rtc !== s) return;
      let inbound = null;
      report.forEach((r) => { if (r.type === 'inbound-rtp' && (r.kind === 'video' || r.mediaType === 'video')) inbound = r; });
      if (!inbound) return;
      const frames = Number(inbound.framesDecoded) || 0;
      webrtc.framesDecoded = frames;
      const delay = Number(inbound.jitterBufferDelay);
      const count = Number(inbound.jitterBufferEmittedCount);
      if (Number.isFinite(delay) && Number.isFinite(count)) {
        if (s.jitter && count > s.jitter.count) webrtc.jitterBufferMs = ((delay - s.jitter.delay) / (count - s.jitter.count)) * 1000;
        s.jitter = { delay, count };
      }
      if (frames > 0 && !s.playing && s.connected) {
        s.playing = true;
        everPlayed = true;
        if (sessions > 0) webrtc.reconnects += 1;
        sessions += 1;
        webrtc.message = null;
        say('');
      }
    } catch {
      // A connection closing under us: its state change ends the session.
    } finally {
      s.polling = false;
    }
  }

  window.addEventListener('pagehide', () => {
    // Frees the viewer place at once (webrtc.max_viewers) instead of when the server notices.
    pageGone = true;
    clearTimeout(retryTimer);
    retryTimer = null;
    endSession(rtc);
  });
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted || !pageGone) return;
    pageGone = false;
    if (REQUESTED !== 'hls' && typeof window.RTCPeerConnection === 'function') connectWebRtc();
  });

  if (REQUESTED === 'hls') {
    startHls();
  } else if (typeof window.RTCPeerConnection !== 'function') {
    webrtc.state = 'unsupported';
    webrtc.message = 'this browser has no WebRTC';
    if (REQUESTED === 'webrtc') say('This browser has no WebRTC: open /player?protocol=hls');
    else startHls();
  } else {
    connectWebRtc();
  }

  function fmt(n, digits) { return typeof n === 'number' ? n.toFixed(digits) : '–'; }
  function minutes(m) {
    if (typeof m !== 'number') return '–';
    if (m < 60) return m.toFixed(0) + ' min';
    if (m < 1440) return (m / 60).toFixed(1) + ' h';
    return (m / 1440).toFixed(1) + ' d';
  }
  function badge(level, text) {
    const el = $('badge');
    el.dataset.level = level;
    el.textContent = text;
    $('live-dot').classList.toggle('live', level === 'ok');
  }

  async function pollHealth() {
    try {
      const res = await fetch(HEALTH_URL, { cache: 'no-store' });
      if (res.status === 401 || res.status === 403) { badge('unknown', 'health needs a token'); return; }
      const h = await res.json();
      if (res.ok) badge('ok', 'Healthy');
      else if (h.current_state === 'PLAYING' || h.stream_active) badge('warn', 'Degraded');
      else badge('bad', 'Unhealthy');
      $('h-state').textContent = h.current_state;
      $('h-stream').textContent = h.stream_active ? 'arriving' : 'stalled';
      $('h-restarts').textContent = String(h.restart_count);
      $('h-errors').textContent = h.recent_errors + ' / ' + h.total_errors;
      $('h-uptime').textContent = minutes(h.uptime_minutes);
      $('h-memory').textContent = fmt(h.memory_usage_mb, 0) + ' MB';
      $('h-sysmem').textContent = fmt(h.system_memory_percent, 0) + ' %';
      $('h-relay').textContent = h.mediamtx_running ? 'reachable' : 'off';
      const last = $('h-last-error');
      last.hidden = !h.last_error;
      last.textContent = h.last_error ? 'Last error: ' + h.last_error : '';
    } catch {
      badge('bad', 'Supervisor unreachable');
    }
  }

  /** Wall-clock time (ms) of the frame on screen, from EXT-X-PROGRAM-DATE-TIME; null if unknown. */
  function playingDateMs(hls) {
    let date = null;
    if (hls) date = hls.playingDate;
    else if (state.engine === 'native HLS' && typeof video.getStartDate === 'function') {
      const start = video.getStartDate().getTime();
      if (Number.isFinite(start) && start > 0) date = new Date(start + video.currentTime * 1000);
    }
    const ms = date ? date.getTime() : NaN;
    return Number.isFinite(ms) && ms > 0 ? ms : null;
  }

  function showLatency(text, why) {
    $('p-latency').title = why;
    latencyChip.hidden = text === '–';
    latencyChip.textContent = text === '–' ? '' : text + ' behind live';
    latencyChip.title = why;
  }

  function updateLatency(hls) {
    const shown = video.readyState >= 2 && !video.paused ? playingDateMs(hls) : null;
    // Glass to screen, as far as the stream's clock (the kiosk's) and this device's clock agree.
    const latency = shown === null ? null : (Date.now() - shown) / 1000;
    state.latency = latency !== null && latency > -5 && latency < 3600 ? latency : null;
    state.edgeLatency = hls && hls.latency > 0 ? hls.latency : null;
    state.targetLatency = hls && typeof hls.targetLatency === 'number' ? hls.targetLatency : null;
    const details = hls ? hls.latestLevelDetails : null;
    state.lowLatency = details ? Boolean(details.partList && details.partList.length) : null;
    let text = '–';
    if (state.latency !== null) text = Math.max(0, state.latency).toFixed(1) + ' s';
    else if (state.edgeLatency !== null) text = '≈ ' + state.edgeLatency.toFixed(1) + ' s';
    const rate = video.playbackRate;
    $('p-latency').textContent = text + (rate > 1 ? ' · ×' + rate.toFixed(2) : '');
    const why = [];
    if (state.latency !== null) why.push('from EXT-X-PROGRAM-DATE-TIME and this device’s clock');
    if (state.edgeLatency !== null) why.push('hls.js: ' + state.edgeLatency.toFixed(1) + ' s behind the playlist edge');
    if (state.targetLatency !== null) why.push('target ' + state.targetLatency.toFixed(1) + ' s');
    if (rate > 1) why.push('catching up at ×' + rate.toFixed(2));
    showLatency(text, why.join('; '));
    if (details) {
      const part = details.partTarget;
      $('p-mode').textContent = state.lowLatency
        ? 'LL-HLS, ' + fmt(part, 2) + ' s parts'
        : 'HLS, ' + fmt(details.targetduration, 0) + ' s segments';
    } else {
      $('p-mode').textContent = state.engine === 'native HLS' ? 'native' : '–';
    }
  }

  /** WebRTC: the delay this browser adds (its jitter buffer); the rest is not measurable in the page. */
  function updateWebRtcLatency() {
    state.latency = null;
    state.edgeLatency = null;
    state.targetLatency = null;
    const jitter = webrtc.jitterBufferMs;
    $('p-latency').textContent = jitter === null ? '–' : 'jitter buffer ' + jitter.toFixed(0) + ' ms';
    showLatency('–', 'WebRTC: the jitter buffer of this browser; glass-to-screen is measured in bench/README.md');
    $('p-mode').textContent = 'WebRTC, H.264';
  }

  // hls.js speeds up only when it is less than one target duration past its target latency; further
  // behind (a long stall on a busy device) it would stay behind for good. A low-latency viewer who
  // has been more than JUMP_BEYOND_S past the target for JUMP_AFTER_S is brought back to the edge.
  const JUMP_BEYOND_S = 3;
  const JUMP_AFTER_S = 3;
  function jumpToLiveWhenFarBehind(hls) {
    const far = hls && state.lowLatency && state.edgeLatency !== null && state.targetLatency !== null
      && state.edgeLatency > state.targetLatency + JUMP_BEYOND_S;
    state.farBehindFor = far ? state.farBehindFor + 1 : 0;
    const position = hls ? hls.liveSyncPosition : null;
    if (state.farBehindFor < JUMP_AFTER_S || !Number.isFinite(position)) return;
    state.farBehindFor = 0;
    state.jumps += 1;
    video.currentTime = position;
  }

  /** Which protocol plays ("WebRTC · connected", "LL-HLS"), and why WebRTC does not when it does not. */
  function updateProtocol() {
    let text;
    if (state.protocol === 'webrtc') text = 'WebRTC · ' + webrtc.state;
    else if (state.lowLatency === false) text = 'HLS';
    else text = 'LL-HLS';
    $('p-protocol').textContent = text;
    let note = '';
    if (webrtc.message && REQUESTED !== 'hls') {
      note = 'WebRTC: ' + webrtc.message;
      if (webrtc.retryAt) note += ' · next try in ' + Math.max(0, Math.ceil((webrtc.retryAt - Date.now()) / 1000)) + ' s';
      else if (state.protocol === 'hls') note += ' · playing LL-HLS';
    }
    const el = $('p-note');
    el.hidden = !note;
    el.textContent = note;
  }

  function updatePlayerStats() {
    try {
      const hls = state.hls;
      $('p-engine').textContent = state.engine;
      if (state.protocol === 'webrtc') {
        updateWebRtcLatency();
        $('p-buffer').textContent = webrtc.jitterBufferMs === null ? '–' : webrtc.jitterBufferMs.toFixed(0) + ' ms';
      } else {
        updateLatency(hls);
        jumpToLiveWhenFarBehind(hls);
        const b = video.buffered;
        const ahead = b.length ? b.end(b.length - 1) - video.currentTime : 0;
        $('p-buffer').textContent = ahead.toFixed(1) + ' s';
      }
      updateProtocol();
      $('p-resolution').textContent = video.videoWidth ? video.videoWidth + '×' + video.videoHeight : '–';
      $('p-recoveries').textContent = String(state.recoveries);
    } catch {
      // A panel that misses one update is no reason to stop updating it.
    }
  }

  pollHealth();
  setInterval(pollHealth, 5000);
  setInterval(updatePlayerStats, 1000);
})();
`;

/**
 * The built-in player: one page, its stylesheet and its script, served by routes/player.ts.
 * hls.js comes from the npm package (never a CDN); Safari plays HLS natively.
 * Kept as strings so the build (tsc) ships them without a copy step.
 */

export const PLAYLIST_URL = '/hls/desktop/playlist.m3u8';

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
      <dt>Engine</dt><dd id="p-engine">–</dd>
      <dt>Stream</dt><dd id="p-mode">–</dd>
      <dt>Latency</dt><dd id="p-latency">–</dd>
      <dt>Buffer</dt><dd id="p-buffer">–</dd>
      <dt>Resolution</dt><dd id="p-resolution">–</dd>
      <dt>Recoveries</dt><dd id="p-recoveries">0</dd>
    </dl>
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
.links { margin: 1.25rem 0 0; color: var(--muted); font-size: .8rem; }
@media (max-width: 860px) { main { grid-template-columns: 1fr; padding: .75rem; gap: .75rem; } }
@media (max-width: 520px) { .playlist { display: none; } }
`;

export const PLAYER_JS = `'use strict';
(() => {
  const SRC = ${JSON.stringify(PLAYLIST_URL)};
  const HEALTH_URL = '/api/health';
  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const notice = $('notice');
  const latencyChip = $('latency-chip');
  // Read by tests and benches: latency (s, per EXT-X-PROGRAM-DATE-TIME), edgeLatency and
  // targetLatency (hls.js', s), lowLatency (the playlist has parts), errors (the last 50 hls.js errors).
  const state = { engine: 'none', recoveries: 0, hls: null, lastMediaRecovery: 0, errors: [],
    latency: null, edgeLatency: null, targetLatency: null, lowLatency: null, jumps: 0, farBehindFor: 0 };
  window.__player = state;

  function say(text) {
    notice.hidden = !text;
    notice.textContent = text || '';
  }

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
        setTimeout(() => hls.startLoad(), 2000);
      } else {
        // Playlist unreachable (stream not started yet, supervisor restarting…) or unrecoverable: start over.
        say('Waiting for the stream…');
        hls.destroy();
        state.hls = null;
        setTimeout(startHlsJs, 3000);
      }
    });
    hls.loadSource(SRC);
    hls.attachMedia(video);
  }

  function startNative() {
    video.src = SRC;
    video.addEventListener('loadedmetadata', () => video.play().catch(() => say('Press play to start')));
    video.addEventListener('error', () => {
      state.recoveries += 1;
      say('Waiting for the stream…');
      setTimeout(() => { video.src = SRC; video.load(); }, 3000);
    });
  }

  if (window.Hls && window.Hls.isSupported()) {
    state.engine = 'hls.js ' + window.Hls.version;
    startHlsJs();
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    state.engine = 'native HLS';
    startNative();
  } else {
    say('This browser cannot play HLS. Open ' + SRC + ' in VLC or ffplay.');
  }
  say('Connecting…');

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
    $('p-latency').title = why.join('; ');
    latencyChip.hidden = text === '–';
    latencyChip.textContent = text === '–' ? '' : text + ' behind live';
    latencyChip.title = $('p-latency').title;
    if (details) {
      const part = details.partTarget;
      $('p-mode').textContent = state.lowLatency
        ? 'LL-HLS, ' + fmt(part, 2) + ' s parts'
        : 'HLS, ' + fmt(details.targetduration, 0) + ' s segments';
    } else {
      $('p-mode').textContent = state.engine === 'native HLS' ? 'native' : '–';
    }
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

  function updatePlayerStats() {
    const hls = state.hls;
    $('p-engine').textContent = state.engine;
    updateLatency(hls);
    jumpToLiveWhenFarBehind(hls);
    const b = video.buffered;
    const ahead = b.length ? b.end(b.length - 1) - video.currentTime : 0;
    $('p-buffer').textContent = ahead.toFixed(1) + ' s';
    $('p-resolution').textContent = video.videoWidth ? video.videoWidth + '×' + video.videoHeight : '–';
    $('p-recoveries').textContent = String(state.recoveries);
  }

  pollHealth();
  setInterval(pollHealth, 5000);
  setInterval(updatePlayerStats, 1000);
})();
`;

/**
 * Glass-to-player measurement, shared by bench/glass-to-player.ts and test/e2e/glass-to-player.e2e.ts.
 *
 * The glass: the rig's second monitor shows the blue xclock window; unmapping it (xdotool) shows
 * the black root window, mapping it again shows blue. `SecondMonitorPicture.toggle()` makes that
 * change and notes the wall clock (Date.now()) just before the command goes to xdotool and when
 * xdotool confirms it: with `--sync` xdotool waits until the X server has reported the (un)map, so
 * the change is on the X server's framebuffer no later than `at`, and no earlier than
 * `requestedAt`. Latencies are taken from `at`; `at − requestedAt` (a few ms: one long-lived
 * xdotool, no process start per change) is the uncertainty, and can only make them larger.
 *
 * The player: `PlayerGlass.install()` puts a small script into the page that registers
 * requestVideoFrameCallback on `<video id="video">`. For every presented frame it draws the frame
 * into a 16x9 canvas, averages it and names its colour (the same thresholds as frames.ts'
 * `dominant`: blue, black or other), and notes when the frame shows — performance.timeOrigin +
 * metadata.expectedDisplayTime, a wall-clock time on this machine's clock, the one Node's
 * Date.now() reads. It keeps every colour change and the time of every presented frame (for the
 * longest gap between frames, e.g. through a pipeline crash).
 *
 * Browser-side code is kept as strings: this project's TypeScript has no DOM lib.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';

const run = promisify(execFile);

export type PictureState = 'blue' | 'black';
export type FrameColour = PictureState | 'other';

/** The rig's blue xclock window: the one at x = 1920 (the second monitor's origin). */
export async function blueWindow(display: string): Promise<string> {
  const env = { ...process.env, DISPLAY: display };
  const { stdout } = await run('xdotool', ['search', '--class', 'xclock'], { env });
  const ids = stdout.trim().split('\n').filter(Boolean);
  for (const id of ids) {
    const geometry = (await run('xdotool', ['getwindowgeometry', id], { env })).stdout;
    if (/Position: 1920,0\b/.test(geometry)) return id;
  }
  throw new Error(`no xclock window at +1920+0 on ${display} (windows: ${ids.join(', ') || 'none'})`);
}

export interface PictureChange {
  to: PictureState;
  /** Date.now() right before the (un)map command was written to xdotool. */
  requestedAt: number;
  /** Date.now() when xdotool confirmed the (un)map (`--sync`): the change time used. */
  at: number;
}

/**
 * Flips the second monitor between the blue window and the black root window, through one
 * long-lived `xdotool -` (it runs commands from stdin line by line as they arrive), so a change
 * costs no process start: after `window(un)map --sync ID` it runs `getwindowname ID`, whose output
 * line tells that the X server has done the (un)map.
 */
export class SecondMonitorPicture {
  #state: PictureState = 'blue';
  readonly #xdotool: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #waiter: (() => void) | null = null;
  #stderr = '';

  private constructor(
    readonly display: string,
    readonly windowId: string,
  ) {
    this.#xdotool = spawn('xdotool', ['-'], { env: { ...process.env, DISPLAY: display } });
    createInterface({ input: this.#xdotool.stdout }).on('line', (line) => {
      this.#lines.push(line);
      this.#waiter?.();
    });
    this.#xdotool.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-1000);
    });
    this.#xdotool.on('exit', () => this.#waiter?.());
  }

  /** Finds the blue window; the rig starts with it mapped. */
  static async find(display: string): Promise<SecondMonitorPicture> {
    return new SecondMonitorPicture(display, await blueWindow(display));
  }

  get state(): PictureState {
    return this.#state;
  }

  async #command(line: string): Promise<void> {
    this.#lines.length = 0;
    this.#xdotool.stdin.write(`${line}\ngetwindowname ${this.windowId}\n`);
    const deadline = Date.now() + 5000;
    while (this.#lines.length === 0) {
      if (this.#xdotool.exitCode !== null || Date.now() > deadline)
        throw new Error(`xdotool did not confirm "${line}" (stderr: ${this.#stderr.trim() || 'none'})`);
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 100);
      });
      this.#waiter = null;
    }
  }

  async toggle(): Promise<PictureChange> {
    const to: PictureState = this.#state === 'blue' ? 'black' : 'blue';
    const requestedAt = Date.now();
    await this.#command(`${to === 'black' ? 'windowunmap' : 'windowmap'} --sync ${this.windowId}`);
    const at = Date.now();
    this.#state = to;
    return { to, requestedAt, at };
  }

  /** Back to the blue window if it is unmapped. */
  async restore(): Promise<void> {
    if (this.#state === 'black') await this.toggle();
  }

  /** Leaves the rig as found (the blue window mapped) and ends xdotool. */
  async close(): Promise<void> {
    try {
      if (this.#xdotool.exitCode === null) await this.restore();
    } finally {
      this.#xdotool.stdin.end();
      if (this.#xdotool.exitCode === null) await once(this.#xdotool, 'exit');
    }
  }
}

export interface Transition {
  colour: FrameColour;
  /** performance.timeOrigin + rVFC metadata.expectedDisplayTime: when the frame shows (wall clock, ms). */
  shownAt: number;
  /** performance.timeOrigin + metadata.presentationTime: when it was handed to the compositor. */
  presentedAt: number;
  /** metadata.mediaTime, seconds on the video's timeline. */
  mediaTime: number;
  /** metadata.presentedFrames. */
  frame: number;
  /** Mean colour of the 16x9 thumbnail. */
  rgb: [number, number, number];
  /** The frame's EXT-X-PROGRAM-DATE-TIME (ms) per /player's hls.js, null without one. */
  pdt: number | null;
}

/** What /player (window.__player) says about itself, read at the same moment. */
export interface PlayerReadout {
  engine: string | null;
  /** Seconds behind live per EXT-X-PROGRAM-DATE-TIME (what the page shows), null if unknown. */
  latency: number | null;
  /** hls.js' own latency (live edge estimate − currentTime), seconds. */
  edgeLatency: number | null;
  targetLatency: number | null;
  lowLatency: boolean | null;
  playbackRate: number;
  recoveries: number;
  errors: { at: number; type: string; details: string; fatal: boolean }[];
}

const MAX_FRAME_TIMES = 100_000;

/** Installed once per page; idempotent. Exposes window.__glass. */
export const GLASS_PAGE_SCRIPT = `(() => {
  if (window.__glass) return 'already';
  const video = document.getElementById('video');
  if (!video || typeof video.requestVideoFrameCallback !== 'function') throw new Error('no <video id="video"> with requestVideoFrameCallback');
  const canvas = document.createElement('canvas');
  canvas.width = 16; canvas.height = 9;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const origin = performance.timeOrigin;
  const g = { transitions: [], frameTimes: [], frames: 0, last: null };
  // Same thresholds as test/helpers/frames.ts dominant(), restricted to what the rig shows.
  function name(r, gr, b) {
    if (Math.max(r, gr, b) < 64) return 'black';
    if (b >= 96 && Math.max(r, gr) <= b / 2) return 'blue';
    return 'other';
  }
  function onFrame(now, meta) {
    try {
      ctx.drawImage(video, 0, 0, 16, 9);
      const d = ctx.getImageData(0, 0, 16, 9).data;
      let r = 0, gr = 0, b = 0;
      for (let i = 0; i < d.length; i += 4) { r += d[i]; gr += d[i + 1]; b += d[i + 2]; }
      const n = d.length / 4;
      r /= n; gr /= n; b /= n;
      const colour = name(r, gr, b);
      const shownAt = origin + meta.expectedDisplayTime;
      g.frames += 1;
      g.frameTimes.push(shownAt);
      if (g.frameTimes.length > ${MAX_FRAME_TIMES}) g.frameTimes.splice(0, g.frameTimes.length - ${MAX_FRAME_TIMES});
      if (colour !== g.last) {
        g.last = colour;
        // The frame's EXT-X-PROGRAM-DATE-TIME, from hls.js' date of currentTime (/player's hls instance).
        const hls = window.__player && window.__player.hls;
        const date = hls && hls.playingDate ? hls.playingDate.getTime() : NaN;
        const pdt = Number.isFinite(date) ? date - (video.currentTime - meta.mediaTime) * 1000 : null;
        g.transitions.push({ colour, shownAt, presentedAt: origin + meta.presentationTime, mediaTime: meta.mediaTime,
          frame: meta.presentedFrames, rgb: [Math.round(r), Math.round(gr), Math.round(b)], pdt });
      }
    } finally {
      video.requestVideoFrameCallback(onFrame);
    }
  }
  video.requestVideoFrameCallback(onFrame);
  g.clockOffsetMs = () => Date.now() - (origin + performance.now());
  g.framesBetween = (from, to) => g.frameTimes.filter((t) => t >= from && t <= to);
  g.player = () => {
    const p = window.__player || {};
    const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
    return { engine: p.engine || null, latency: num(p.latency), edgeLatency: num(p.edgeLatency),
      targetLatency: num(p.targetLatency), lowLatency: typeof p.lowLatency === 'boolean' ? p.lowLatency : null,
      playbackRate: video.playbackRate, recoveries: p.recoveries || 0, errors: (p.errors || []).slice() };
  };
  window.__glass = g;
  return 'installed';
})()`;

export interface TraceEvent {
  /** Date.now() in the page (wall clock, ms). */
  at: number;
  /** hls.js event name without its `hls` prefix, `video:<event>` for media element events, `sample` every 100 ms. */
  ev: string;
  [key: string]: unknown;
}

const MAX_TRACE_EVENTS = 50_000;

/**
 * What hls.js and the `<video>` did, for explaining stalls: hls.js events (playlist loads with their
 * window, fragment/part loads and appends with sn/part/cc/start, the PTS each append was placed at,
 * errors with their buffer info), media element events, and every 100 ms a sample of currentTime,
 * buffered ranges, readyState, playbackRate and hls.js' latency figures. Attaches to whatever
 * instance `window.__player.hls` holds (re-attaches when /player starts a new one). Exposes
 * window.__trace.
 */
export const PLAYER_TRACE_SCRIPT = `(() => {
  if (window.__trace) return 'already';
  const video = document.getElementById('video');
  const t = { events: [], attached: null };
  const r3 = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);
  function push(ev, data) {
    t.events.push(Object.assign({ at: Date.now(), ev }, data));
    if (t.events.length > ${MAX_TRACE_EVENTS}) t.events.splice(0, t.events.length - ${MAX_TRACE_EVENTS});
  }
  function ranges(tr) {
    const out = [];
    if (!tr) return out;
    for (let i = 0; i < tr.length; i++) out.push([r3(tr.start(i)), r3(tr.end(i))]);
    return out;
  }
  function frag(f) {
    return f ? { sn: f.sn, cc: f.cc, start: r3(f.start), dur: r3(f.duration), pdt: f.programDateTime || null } : null;
  }
  function part(p) {
    return p ? { index: p.index, start: r3(p.start), dur: r3(p.duration), independent: Boolean(p.independent) } : null;
  }
  function details(d) {
    if (!d) return null;
    const frags = d.fragments || [];
    const last = frags.slice(-3).map(frag);
    const parts = (d.partList || []).slice(-4).map((p) => ({ sn: p.fragment.sn, cc: p.fragment.cc, index: p.index, start: r3(p.start), dur: r3(p.duration) }));
    return { startSN: d.startSN, endSN: d.endSN, endCC: d.endCC, endPart: d.endPart, live: d.live, edge: r3(d.edge),
      age: r3(d.age), partHoldBack: d.partHoldBack, updated: d.updated, misses: d.misses, lastFrags: last, lastParts: parts,
      fragmentHint: d.fragmentHint ? frag(d.fragmentHint) : null, preloadHint: d.preloadHint ? d.preloadHint.URI || null : null };
  }
  function attach(hls) {
    const E = window.Hls.Events;
    const on = (name, fn) => hls.on(E[name], (_e, data) => { try { push(name, fn(data || {})); } catch (err) { push(name, { traceError: String(err) }); } });
    on('MANIFEST_LOADING', (d) => ({ url: d.url }));
    on('LEVEL_LOADING', (d) => ({ url: d.url, msn: d.deliveryDirectives ? d.deliveryDirectives.msn : null, part: d.deliveryDirectives ? d.deliveryDirectives.part : null }));
    on('LEVEL_LOADED', (d) => ({ details: details(d.details) }));
    on('LEVEL_UPDATED', (d) => ({ details: details(d.details) }));
    on('LEVEL_PTS_UPDATED', (d) => ({ frag: frag(d.frag), drift: r3(d.drift), start: r3(d.start), end: r3(d.end) }));
    on('FRAG_LOADING', (d) => ({ frag: frag(d.frag), part: part(d.part), targetBufferTime: r3(d.targetBufferTime) }));
    on('FRAG_LOADED', (d) => ({ frag: frag(d.frag), part: part(d.part), bytes: d.payload ? d.payload.byteLength : null }));
    on('FRAG_PARSING_DATA', (d) => ({ frag: frag(d.frag), part: part(d.part), type: d.type, startPTS: r3(d.startPTS), endPTS: r3(d.endPTS), startDTS: r3(d.startDTS), endDTS: r3(d.endDTS), nb: d.nb, dropped: d.dropped }));
    on('FRAG_BUFFERED', (d) => ({ frag: frag(d.frag), part: part(d.part) }));
    on('FRAG_CHANGED', (d) => ({ frag: frag(d.frag) }));
    on('BUFFER_APPENDED', (d) => ({ type: d.type, frag: frag(d.frag), part: part(d.part), video: ranges(d.timeRanges && d.timeRanges.video) }));
    on('BUFFER_FLUSHING', (d) => ({ start: r3(d.startOffset), end: r3(d.endOffset), type: d.type }));
    on('BUFFER_FLUSHED', () => ({}));
    on('STALL_RESOLVED', () => ({}));
    on('MEDIA_ENDED', (d) => ({ stalled: d.stalled }));
    on('LIVE_BACK_BUFFER_REACHED', () => ({}));
    on('ERROR', (d) => ({ type: d.type, details: d.details, fatal: d.fatal, reason: d.reason || (d.error ? String(d.error.message) : null),
      buffer: r3(d.buffer), bufferInfo: d.bufferInfo ? { len: r3(d.bufferInfo.len), start: r3(d.bufferInfo.start), end: r3(d.bufferInfo.end), nextStart: r3(d.bufferInfo.nextStart) } : null,
      frag: frag(d.frag), part: part(d.part) }));
  }
  // hls.js' stream controller (internal fields, unminified names in hls.min.js): what it is doing.
  function streamController(hls) {
    const sc = hls && hls.streamController;
    if (!sc) return null;
    const d = sc.getLevelDetails ? sc.getLevelDetails() : null;
    const parts = d && d.partList ? d.partList.slice(-12).map((p) => p.fragment.sn + '.' + p.index + (p.loaded ? 'L' : '') + (p.gap ? 'G' : '')) : null;
    return { state: sc.state, loadingParts: sc.loadingParts, nextLoadPosition: r3(sc.nextLoadPosition),
      fragPrevious: sc.fragPrevious ? sc.fragPrevious.sn : null, fragCurrent: sc.fragCurrent ? sc.fragCurrent.sn : null,
      endSN: d ? d.endSN : null, hintSN: d && d.fragmentHint ? d.fragmentHint.sn : null, hintStart: d && d.fragmentHint ? r3(d.fragmentHint.start) : null,
      partEnd: d ? r3(d.partEnd) : null, fragmentEnd: d ? r3(d.fragmentEnd) : null, parts, probe: probe(sc, d) };
  }
  // Near the end of the buffer: the fragment hls.js' own (side-effect free) lookup picks for the buffer end, and
  // whether it counts as already loaded ("loop loading": hls.js then loads nothing), plus which of that
  // fragment's listed parts it still counts as loaded.
  function probe(sc, d) {
    try {
      const b = video.buffered;
      if (!d || !b.length) return null;
      const end = b.end(b.length - 1);
      if (end - video.currentTime > 0.5) return null;
      const atPos = sc.getFragmentAtPosition(end, sc.loadingParts ? d.partEnd : d.fragmentEnd, d);
      const unloaded = atPos && d.partList ? d.partList.filter((p) => p.fragment.sn === atPos.sn && !p.loaded).map((p) => p.index) : null;
      return { end: Math.round(end * 1e6) / 1e6, atPos: atPos ? atPos.sn : null, atPosEnd: atPos ? r3(atPos.end) : null,
        loop: atPos ? sc.isLoopLoading(atPos, end) : null, unloadedParts: unloaded };
    } catch (err) { return { error: String(err) }; }
  }
  for (const name of ['waiting', 'playing', 'seeking', 'seeked', 'stalled', 'pause', 'play', 'ratechange', 'ended', 'emptied']) {
    video.addEventListener(name, () => push('video:' + name, { currentTime: r3(video.currentTime), rate: video.playbackRate, readyState: video.readyState }));
  }
  setInterval(() => {
    const p = window.__player || {};
    const hls = p.hls || null;
    if (hls && t.attached !== hls) { t.attached = hls; attach(hls); push('attached', {}); }
    push('sample', { currentTime: r3(video.currentTime), buffered: ranges(video.buffered), readyState: video.readyState,
      rate: video.playbackRate, paused: video.paused, latency: r3(hls ? hls.latency : null), targetLatency: r3(hls ? hls.targetLatency : null),
      liveSyncPosition: r3(hls ? hls.liveSyncPosition : null), playingDate: hls && hls.playingDate ? hls.playingDate.getTime() : null,
      jumps: p.jumps || 0, sc: streamController(hls) });
  }, 100);
  t.between = (from, to) => {
    const log = (window.__hlsLog || []).filter((e) => e.at >= from && e.at <= to);
    const events = t.events.filter((e) => e.at >= from && e.at <= to);
    return log.length ? events.concat(log).sort((a, b) => a.at - b.at) : events;
  };
  window.__trace = t;
  return 'installed';
})()`;

/**
 * hls.js' own debug log, for a diagnosis run (it costs CPU, so not for measurements): run before
 * the page's scripts (page.addInitScript), it catches the assignment of `window.Hls` by
 * hls.min.js and hands the page a subclass whose instances log through `debug` into
 * window.__hlsLog (its lines then appear in traceBetween() as `ev: 'log'`).
 */
export const HLS_DEBUG_INIT_SCRIPT = `(() => {
  const lines = [];
  window.__hlsLog = lines;
  const text = (a) => { if (typeof a === 'string') return a; try { return JSON.stringify(a); } catch { return String(a); } };
  const sink = (level) => (...args) => {
    lines.push({ at: Date.now(), ev: 'log', level, text: args.map(text).join(' ').slice(0, 2000) });
    if (lines.length > 200000) lines.splice(0, 20000);
  };
  const debug = { log: sink('log'), info: sink('info'), warn: sink('warn'), error: sink('error'), debug: sink('debug'), trace: sink('trace') };
  let current;
  Object.defineProperty(globalThis, 'Hls', { configurable: true, get: () => current, set: (Base) => {
    current = class extends Base { constructor(config) { super(Object.assign({}, config, { debug })); } };
  } });
})()`;

/** The measuring side in the page: colour transitions and presented-frame times of its `<video>`. */
export class PlayerGlass {
  constructor(readonly page: Page) {}

  async install(): Promise<void> {
    await this.page.waitForSelector('#video', { state: 'attached' });
    await this.page.evaluate(GLASS_PAGE_SCRIPT);
  }

  /** Also records what hls.js and the `<video>` do (PLAYER_TRACE_SCRIPT), for traceBetween(). */
  async installTrace(): Promise<void> {
    await this.page.waitForSelector('#video', { state: 'attached' });
    await this.page.evaluate(PLAYER_TRACE_SCRIPT);
  }

  /** Trace events (installTrace) within [from, to], wall clock ms. */
  async traceBetween(from: number, to: number): Promise<TraceEvent[]> {
    return (await this.page.evaluate(`window.__trace.between(${from}, ${to})`)) as TraceEvent[];
  }

  async transitions(): Promise<Transition[]> {
    return (await this.page.evaluate('window.__glass.transitions')) as Transition[];
  }

  async frameCount(): Promise<number> {
    return Number(await this.page.evaluate('window.__glass.frames'));
  }

  /** Presented-frame times (wall clock, ms) within [from, to]. */
  async framesBetween(from: number, to: number): Promise<number[]> {
    return (await this.page.evaluate(`window.__glass.framesBetween(${from}, ${to})`)) as number[];
  }

  /** Page clock − (performance.timeOrigin + performance.now()), ms: ≈ 0 when the two agree. */
  async clockOffsetMs(): Promise<number> {
    return Number(await this.page.evaluate('window.__glass.clockOffsetMs()'));
  }

  async player(): Promise<PlayerReadout> {
    return (await this.page.evaluate('window.__glass.player()')) as PlayerReadout;
  }

  /** The first presented frame of `colour` that shows at or after `after` (wall clock, ms). */
  async waitForColour(colour: FrameColour, after: number, timeoutMs: number): Promise<Transition> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.transitions()).find((t) => t.colour === colour && t.shownAt >= after);
      if (found) return found;
      if (Date.now() > deadline) {
        const tail = (await this.transitions()).slice(-5);
        throw new Error(
          `no ${colour} frame shown within ${timeoutMs} ms (last transitions: ${JSON.stringify(tail)})`,
        );
      }
      await sleep(50);
    }
  }

  /** Resolves once frames of `colour` are being presented steadily (≥ `fps`·0.5 frames in the last second). */
  async waitForSteady(colour: FrameColour, timeoutMs: number, fps = 15): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = Date.now();
      const recent = await this.framesBetween(now - 1000, now + 1000);
      const last = (await this.transitions()).at(-1);
      if (recent.length >= fps * 0.5 && last?.colour === colour) return;
      if (now > deadline) {
        throw new Error(
          `the player did not settle on ${colour} within ${timeoutMs} ms (${recent.length} frames in the last second, last transition ${JSON.stringify(last)})`,
        );
      }
      await sleep(200);
    }
  }
}

export interface Gap {
  /** Longest interval between consecutive presented frames, ms. */
  ms: number;
  /** Frame times (wall clock, ms) before and after that interval. */
  from: number;
  to: number;
}

/**
 * Longest interval between consecutive presented frames within [from, to], counting the edges:
 * a player that showed nothing since `from` (or nothing until `to`) has a gap up to that edge.
 */
export function longestGap(frameTimes: readonly number[], from: number, to: number): Gap {
  const times = frameTimes.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let best: Gap = { ms: to - from, from, to };
  if (times.length === 0) return best;
  best = { ms: times[0]! - from, from, to: times[0]! };
  for (let i = 1; i < times.length; i++) {
    const ms = times[i]! - times[i - 1]!;
    if (ms > best.ms) best = { ms, from: times[i - 1]!, to: times[i]! };
  }
  const tail = to - times.at(-1)!;
  if (tail > best.ms) best = { ms: tail, from: times.at(-1)!, to };
  return best;
}

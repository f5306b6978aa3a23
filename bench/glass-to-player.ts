/**
 * Glass-to-player latency as a viewer sees it: the real supervisor on the rig, the built-in /player
 * in Debian's headless Chromium (WebRTC or hls.js: --protocol), and the picture on monitor 2 changed at known wall-clock
 * times (the blue xclock window unmapped → black root, mapped again → blue). In the page,
 * requestVideoFrameCallback classifies every presented frame of the `<video>` (test/helpers/glass.ts).
 * Per change:
 *   glass → player = when the first frame showing the new state is shown (rVFC expectedDisplayTime,
 *                    wall clock) − when `xdotool window(un)map --sync` returned (wall clock);
 *                    both on this machine's clock. The change happened in [xdotool start, return],
 *                    so the true value is at most `xdotool_ms` larger.
 *   page says      = the latency /player shows at that moment (EXT-X-PROGRAM-DATE-TIME vs Date.now()).
 *
 * --replug N: then N times unplug and replug monitor 2: when the new picture shows and the longest
 * interval between presented frames around each step.
 * --kill N: afterwards, N times: kill -9 the gst-launch child while the player plays and measure the
 * longest interval between presented frames in [kill − 1 s, kill + --kill-window s], and whether
 * hls.js raised a fatal error (window.__player.errors). Kills are spaced so that each one is a
 * "first" restart (the supervisor resets its backoff after 60 s of healthy streaming).
 *
 *   node --import tsx bench/glass-to-player.ts [--protocol auto|webrtc|hls] [--changes 10] [--settle 2]
 *        [--config segment_duration=1 --config keyframe_interval=1] [--kill 3] [--kill-window 30]
 *
 * Changes are 1 × --settle s + U(0, segment_duration) after the previous change was seen in the
 * player, so they fall at random phases within a segment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.ts';
import {
  HLS_DEBUG_INIT_SCRIPT,
  longestGap,
  PlayerGlass,
  type PlayerReadout,
  SecondMonitorPicture,
  type TraceEvent,
} from '../test/helpers/glass.ts';
import { parsePlaylist, type Stack, startStack } from '../test/helpers/stack.ts';
import { loadAverage } from './lib/proc.ts';
import { writeResults } from './lib/results.ts';
import { median, percentile, round } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    changes: { type: 'string', default: '10' },
    settle: { type: 'string', default: '2' },
    config: { type: 'string', multiple: true, default: [] },
    kill: { type: 'string', default: '0' },
    /** Unplug and replug monitor 2 this many times (after the kills). */
    replug: { type: 'string', default: '0' },
    'kill-window': { type: 'string', default: '30' },
    /** What /player is asked to play: auto (WebRTC, falling back to LL-HLS), webrtc or hls. */
    protocol: { type: 'string', default: 'auto' },
    /** hls.js' debug log into the kill traces (diagnosis only: logging costs CPU in the page). */
    'hls-debug': { type: 'boolean', default: false },
  },
});

function positiveNumber(name: string, text: string, integer = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `--${name} must be a ${integer ? 'whole ' : ''}number >= 0, got ${JSON.stringify(text)}`,
    );
  return value;
}

/** `key=value` → config override; values parsed as JSON when they can be (numbers, booleans, null). */
function parseOverrides(pairs: string[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new RangeError(`--config expects key=value, got ${JSON.stringify(pair)}`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    config[pair.slice(0, eq)] = value;
  }
  return config;
}

const CHANGES = positiveNumber('changes', args.changes, true);
const SETTLE_S = positiveNumber('settle', args.settle);
const KILLS = positiveNumber('kill', args.kill, true);
const KILL_WINDOW_S = positiveNumber('kill-window', args['kill-window']);
const REPLUGS = positiveNumber('replug', args.replug, true);
/** How long after an unplug or replug the frames are looked at. */
const REPLUG_WINDOW_S = 15;
const OVERRIDES = parseOverrides(args.config);
const PROTOCOLS = ['auto', 'webrtc', 'hls'];
const PROTOCOL = args.protocol;
if (!PROTOCOLS.includes(PROTOCOL)) {
  throw new RangeError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(PROTOCOL)}`);
}
const SEGMENT_S = Number(OVERRIDES.segment_duration ?? 2);
/** The supervisor resets its restart backoff after this long streaming without trouble (src/pipeline/supervisor.ts). */
const BACKOFF_RESET_S = 60;

interface ChangeRecord {
  kind: 'change';
  index: number;
  to: 'blue' | 'black';
  glass_to_player_ms: number;
  /** How long xdotool ran: the change happened at most this much before the time used. */
  xdotool_ms: number;
  /** The frame's EXT-X-PROGRAM-DATE-TIME − the change: the stream's own timestamp error (ms). */
  pdt_error_ms: number | null;
  /** Shown − the frame's PDT: the player's share (buffering, target latency, decode, render). */
  pdt_to_shown_ms: number | null;
  /** rVFC presentationTime − expectedDisplayTime of that frame (ms, ≤ 0). */
  presented_minus_shown_ms: number;
  /** What /player showed as latency at detection time, ms (PDT-based), and hls.js' figures. */
  page_latency_ms: number | null;
  hls_edge_latency_ms: number | null;
  hls_target_latency_ms: number | null;
  playback_rate: number;
  low_latency: boolean | null;
}

interface KillRecord {
  kind: 'kill';
  index: number;
  killed_pid: number;
  new_pid: number | null;
  /** Longest interval between presented frames in [kill − 1 s, kill + window]. */
  longest_gap_ms: number;
  /** That gap, relative to the kill (ms). */
  gap_from_ms: number;
  gap_to_ms: number;
  fatal_errors: string[];
  non_fatal_errors: string[];
  page_latency_before_ms: number | null;
  page_latency_after_ms: number | null;
  frames_in_window: number;
  /** From the trace (hls.js events, <video> samples, playlists as the page loaded them). */
  diagnosis: KillDiagnosis;
}

/** One playlist response as the page got it (its hls.js reloads, blocking or not). */
interface PlaylistSeen {
  /** Wall clock (ms) when the response arrived. */
  at: number;
  /** The query (`_HLS_msn`/`_HLS_part` of a blocking reload), empty for a plain load. */
  query: string;
  text: string;
}

/** Everything the player did around one kill: hls.js + <video> trace and the playlists it loaded. */
interface KillTraceRecord {
  kind: 'kill-trace';
  index: number;
  kill_at: number;
  /** Presented-frame times (ms relative to the kill) in the window. */
  frames_ms: number[];
  events: TraceEvent[];
  playlists: PlaylistSeen[];
  /** The supervisor's log lines in the window (pipeline and HLS). */
  logs: unknown[];
}

const playlistsSeen: PlaylistSeen[] = [];

/** One stall of the player (hls.js bufferStalledError → STALL_RESOLVED) and what the trace says about it. */
interface StallRecord {
  /** From the kill, ms. */
  from_ms: number;
  ms: number;
  /** Media the playlist listed beyond the buffer end when the stall began (s; ≤ 0: nothing new listed yet). */
  listed_beyond_buffer_s: number | null;
  /**
   * hls.js' own lookup picked, for the buffer end, a fragment it had already loaded and so loaded nothing
   * ("loop loading"), with some of that fragment's listed parts no longer counted as loaded.
   */
  idle_on_loaded_fragment: boolean;
  forgotten_parts: string[];
  /** A back-buffer flush completed (BUFFER_FLUSHED) while a part of that fragment was loaded but not yet appended. */
  flush_raced_part_append: boolean;
  cause:
    | 'parts forgotten after a back-buffer flush'
    | 'parts forgotten'
    | 'no new media listed yet'
    | 'other';
}

/** Where the player was around one kill, from its trace: the new run's arrival, stalls and their causes. */
interface KillDiagnosis {
  /** The page got a playlist listing the new run (one more discontinuity than before the kill), ms after the kill. */
  new_run_listed_ms: number | null;
  /** hls.js appended the new run's first media (a new discontinuity counter, cc), ms after the kill. */
  new_run_appended_ms: number | null;
  back_buffer_flushes: number;
  stalls: StallRecord[];
}

function discontinuitiesIn(text: string): number {
  const sequence = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  return sequence + (text.match(/^#EXT-X-DISCONTINUITY$/gm)?.length ?? 0);
}

interface SampleScProbe {
  atPos: number | null;
  loop: boolean | null;
  unloadedParts: number[] | null;
}

function diagnose(trace: KillTraceRecord): KillDiagnosis {
  const k = trace.kill_at;
  const before = trace.playlists.filter((p) => p.at < k).at(-1);
  const baseline = before ? discontinuitiesIn(before.text) : null;
  const listed =
    baseline === null
      ? undefined
      : trace.playlists.find((p) => p.at >= k && discontinuitiesIn(p.text) > baseline);
  const ccOf = (e: TraceEvent) => (e.frag as { cc?: number } | null)?.cc ?? null;
  const ccBefore = trace.events
    .filter((e) => e.ev === 'BUFFER_APPENDED' && e.at < k)
    .map(ccOf)
    .at(-1);
  const appended = trace.events.find(
    (e) => e.ev === 'BUFFER_APPENDED' && e.at >= k && ccBefore != null && (ccOf(e) ?? -1) > ccBefore,
  );
  const stalls: StallRecord[] = [];
  const events = trace.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.ev !== 'ERROR' || e.details !== 'bufferStalledError' || e.at < k - 1000) continue;
    const resolved = events.slice(i + 1).find((x) => x.ev === 'STALL_RESOLVED');
    const end = resolved?.at ?? events.at(-1)!.at;
    const during = events.filter((x) => x.at >= e.at && x.at <= end);
    const samples = during.filter((x) => x.ev === 'sample');
    const probes = samples
      .map((x) => (x.sc as { probe?: SampleScProbe } | null)?.probe ?? null)
      .filter((p): p is SampleScProbe => p !== null && p.atPos !== null);
    const idle = probes.find((p) => p.loop === true && (p.unloadedParts?.length ?? 0) > 0);
    const lastLevel = events.filter((x) => x.ev === 'LEVEL_LOADED' && x.at <= e.at).at(-1);
    const edge = (lastLevel?.details as { edge?: number } | undefined)?.edge;
    const bufferEnd = (e.bufferInfo as { end?: number } | null)?.end;
    const beyond = edge != null && bufferEnd != null ? Math.round((edge - bufferEnd) * 1000) / 1000 : null;
    // A flush that completed between a part's load and its append, for the fragment hls.js then idled on.
    let raced = false;
    if (idle) {
      const sn = idle.atPos;
      const window = events.filter((x) => x.at >= e.at - 4000 && x.at <= e.at);
      let loadedPending = false;
      for (const x of window) {
        const fragSn = (x.frag as { sn?: number } | null)?.sn;
        if (x.ev === 'FRAG_LOADED' && x.part && fragSn === sn) loadedPending = true;
        else if (x.ev === 'FRAG_BUFFERED' && x.part && fragSn === sn) loadedPending = false;
        else if (x.ev === 'BUFFER_FLUSHED' && loadedPending) raced = true;
      }
    }
    const cause: StallRecord['cause'] = idle
      ? raced
        ? 'parts forgotten after a back-buffer flush'
        : 'parts forgotten'
      : beyond !== null && beyond <= 0.05
        ? 'no new media listed yet'
        : 'other';
    stalls.push({
      from_ms: Math.round(e.at - k),
      ms: Math.round(end - e.at),
      listed_beyond_buffer_s: beyond,
      idle_on_loaded_fragment: Boolean(idle),
      forgotten_parts: idle ? (idle.unloadedParts ?? []).map((index) => `${idle.atPos}.${index}`) : [],
      flush_raced_part_append: raced,
      cause,
    });
  }
  return {
    new_run_listed_ms: listed ? Math.round(listed.at - k) : null,
    new_run_appended_ms: appended ? Math.round(appended.at - k) : null,
    back_buffer_flushes: events.filter((x) => x.ev === 'BUFFER_FLUSHING' && x.at >= k).length,
    stalls,
  };
}

function ms(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 1000);
}

async function playlistText(stack: Stack): Promise<string> {
  return (await fetch(`${stack.baseUrl}/hls/desktop/playlist.m3u8`)).text();
}

async function measureChanges(glass: PlayerGlass, picture: SecondMonitorPicture): Promise<ChangeRecord[]> {
  const records: ChangeRecord[] = [];
  for (let index = 0; index < CHANGES; index++) {
    await sleep(SETTLE_S * 1000 + Math.random() * SEGMENT_S * 1000);
    const change = await picture.toggle();
    const shown = await glass.waitForColour(change.to, change.requestedAt, 60_000);
    const player = await glass.player();
    const record: ChangeRecord = {
      kind: 'change',
      index,
      to: change.to,
      glass_to_player_ms: Math.round(shown.shownAt - change.at),
      xdotool_ms: change.at - change.requestedAt,
      pdt_error_ms: shown.pdt === null ? null : Math.round(shown.pdt - change.at),
      pdt_to_shown_ms: shown.pdt === null ? null : Math.round(shown.shownAt - shown.pdt),
      presented_minus_shown_ms: round(shown.presentedAt - shown.shownAt, 1),
      page_latency_ms: ms(player.latency),
      hls_edge_latency_ms: ms(player.edgeLatency),
      hls_target_latency_ms: ms(player.targetLatency),
      playback_rate: player.playbackRate,
      low_latency: player.lowLatency,
    };
    records.push(record);
    console.error(JSON.stringify(record));
  }
  await picture.restore();
  return records;
}

interface ReplugRecord {
  kind: 'replug';
  index: number;
  step: 'unplug' | 'replug';
  /** From the xrandr call to the first frame of the new picture (slate after an unplug, monitor 2 after a replug). */
  new_picture_ms: number | null;
  new_picture: string | null;
  /** Longest interval between presented frames in [step − 1 s, step + 15 s]. */
  longest_gap_ms: number;
  gap_from_ms: number;
}

/** The first picture change shown after `since` to anything but `from`, waiting up to `timeoutMs`. */
async function changeAwayFrom(glass: PlayerGlass, from: string, since: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const change = (await glass.transitions()).find((t) => t.shownAt >= since && t.colour !== from);
    if (change) return change;
    await sleep(100);
  }
  return null;
}

async function measureReplugs(stack: Stack, glass: PlayerGlass): Promise<ReplugRecord[]> {
  const records: ReplugRecord[] = [];
  for (let index = 0; index < REPLUGS; index++) {
    await glass.waitForSteady('blue', 60_000);
    for (const step of ['unplug', 'replug'] as const) {
      const at = Date.now();
      await (step === 'unplug' ? stack.rig.unplugSecond() : stack.rig.replugSecond());
      const shown =
        step === 'unplug'
          ? await changeAwayFrom(glass, 'blue', at, REPLUG_WINDOW_S * 1000)
          : await glass.waitForColour('blue', at, REPLUG_WINDOW_S * 1000).catch(() => null);
      await sleep(Math.max(0, at + REPLUG_WINDOW_S * 1000 - Date.now()));
      const gap = longestGap(
        await glass.framesBetween(at - 1000, at + REPLUG_WINDOW_S * 1000),
        at - 1000,
        at + REPLUG_WINDOW_S * 1000,
      );
      const record: ReplugRecord = {
        kind: 'replug',
        index,
        step,
        new_picture_ms: shown ? Math.round(shown.shownAt - at) : null,
        new_picture: shown?.colour ?? null,
        longest_gap_ms: Math.round(gap.ms),
        gap_from_ms: Math.round(gap.from - at),
      };
      records.push(record);
      console.error(JSON.stringify(record));
    }
  }
  return records;
}

function errorsSince(player: PlayerReadout, since: number, fatal: boolean): string[] {
  return player.errors.filter((e) => e.at >= since && e.fatal === fatal).map((e) => `${e.type}/${e.details}`);
}

async function measureKills(
  stack: Stack,
  glass: PlayerGlass,
): Promise<{ records: KillRecord[]; traces: KillTraceRecord[] }> {
  const records: KillRecord[] = [];
  const traces: KillTraceRecord[] = [];
  for (let index = 0; index < KILLS; index++) {
    // Each kill a first restart (first backoff step, 0.5 s), as after a long healthy run.
    const started = stack.logs.filter((r) => r.msg === 'pipeline process started').at(-1);
    const startedAt = typeof started?.time === 'number' ? started.time : Date.now();
    const wait = startedAt + (BACKOFF_RESET_S + SEGMENT_S + 1) * 1000 - Date.now();
    if (wait > 0) {
      console.error(
        `kill ${index + 1}/${KILLS}: waiting ${Math.round(wait / 1000)} s for the backoff to reset`,
      );
      await sleep(wait);
    }
    await glass.waitForSteady('blue', 60_000);
    const pid = stack.pipelinePid();
    if (pid === null) throw new Error('no pipeline pid in the supervisor log');
    const before = await glass.player();
    const killAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await sleep(KILL_WINDOW_S * 1000);
    const from = killAt - 1000;
    const to = killAt + KILL_WINDOW_S * 1000;
    const frames = await glass.framesBetween(from, to);
    const gap = longestGap(frames, from, to);
    const after = await glass.player();
    const newPid = stack.pipelinePid();
    const trace: KillTraceRecord = {
      kind: 'kill-trace',
      index,
      kill_at: killAt,
      frames_ms: frames.map((t) => Math.round(t - killAt)),
      events: await glass.traceBetween(killAt - 3000, to),
      playlists: playlistsSeen.filter((p) => p.at >= killAt - 3000 && p.at <= to),
      logs: stack.logs.filter((r) => typeof r.time === 'number' && r.time >= killAt - 3000 && r.time <= to),
    };
    const record: KillRecord = {
      kind: 'kill',
      index,
      killed_pid: pid,
      new_pid: newPid === pid ? null : newPid,
      longest_gap_ms: Math.round(gap.ms),
      gap_from_ms: Math.round(gap.from - killAt),
      gap_to_ms: Math.round(gap.to - killAt),
      fatal_errors: errorsSince(after, killAt, true),
      non_fatal_errors: errorsSince(after, killAt, false),
      page_latency_before_ms: ms(before.latency),
      page_latency_after_ms: ms(after.latency),
      frames_in_window: frames.length,
      diagnosis: diagnose(trace),
    };
    records.push(record);
    traces.push(trace);
    console.error(JSON.stringify(record));
  }
  return { records, traces };
}

function spread(values: number[]) {
  return {
    n: values.length,
    median: median(values),
    p90: percentile(values, 90),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

const configText = args.config.map((c) => ` --config ${c}`).join('');
const command =
  `node --import tsx bench/glass-to-player.ts --changes ${CHANGES} --settle ${SETTLE_S}${configText}` +
  (KILLS > 0 ? ` --kill ${KILLS} --kill-window ${KILL_WINDOW_S}` : '') +
  (args['hls-debug'] ? ' --hls-debug' : '') +
  (PROTOCOL !== 'auto' ? ` --protocol ${PROTOCOL}` : '') +
  (REPLUGS > 0 ? ` --replug ${REPLUGS}` : '');

const stack = await startStack({ config: OVERRIDES });
let browser: Browser | undefined;
let picture: SecondMonitorPicture | undefined;
let changes: ChangeRecord[] = [];
let kills: KillRecord[] = [];
let killTraces: KillTraceRecord[] = [];
let replugs: ReplugRecord[] = [];
let clockOffsetMs = Number.NaN;
let playlistTag = '';
/** What /player ended up playing (window.__player.protocol). */
let played = '';
try {
  await stack.waitForPlaylist((t) => parsePlaylist(t).segments.length >= 2, 60_000);
  picture = await SecondMonitorPicture.find(stack.display);
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (!url.pathname.endsWith('.m3u8')) return;
    const at = Date.now();
    response
      .text()
      .then((text) => playlistsSeen.push({ at, query: url.search, text }))
      .catch(() => {});
  });
  if (args['hls-debug']) await page.addInitScript(HLS_DEBUG_INIT_SCRIPT);
  await page.goto(`${stack.baseUrl}/player?protocol=${PROTOCOL}`);
  const glass = new PlayerGlass(page);
  await glass.install();
  if (KILLS > 0) await glass.installTrace();
  await glass.waitForSteady('blue', 60_000);
  // Let hls.js settle on its target latency (start-up, first catch-up) before measuring.
  await sleep(3 * SEGMENT_S * 1000);
  playlistTag = /#EXT-X-PART-INF|#EXT-X-SERVER-CONTROL/.test(await playlistText(stack)) ? 'LL-HLS' : 'HLS';
  played = String(await page.evaluate("(window.__player && window.__player.protocol) || 'hls'"));
  changes = await measureChanges(glass, picture);
  ({ records: kills, traces: killTraces } = await measureKills(stack, glass));
  replugs = await measureReplugs(stack, glass);
  clockOffsetMs = await glass.clockOffsetMs();
} finally {
  await picture?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await stack.stop();
}

const latency = spread(changes.map((c) => c.glass_to_player_ms));
const known = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
const pageSays = known(changes.map((c) => c.page_latency_ms));
const pdtError = known(changes.map((c) => c.pdt_error_ms));
const pdtToShown = known(changes.map((c) => c.pdt_to_shown_ms));
const summary = {
  command,
  config: OVERRIDES,
  playlist: playlistTag,
  played,
  changes: changes.length,
  glass_to_player_ms: latency,
  xdotool_ms: spread(changes.map((c) => c.xdotool_ms)),
  page_latency_ms: pageSays.length ? spread(pageSays) : null,
  pdt_error_ms: pdtError.length ? spread(pdtError) : null,
  pdt_to_shown_ms: pdtToShown.length ? spread(pdtToShown) : null,
  page_clock_offset_ms: round(clockOffsetMs, 2),
  kills: kills.length,
  longest_gap_ms: kills.length ? spread(kills.map((k) => k.longest_gap_ms)) : null,
  kills_with_fatal_error: kills.filter((k) => k.fatal_errors.length > 0).length,
  load1_at_end: loadAverage()[0],
};
const file = writeResults('glass-to-player', summary, [...changes, ...kills, ...killTraces, ...replugs]);

const f = (s: ReturnType<typeof spread>) => `${s.median} | ${s.p90} | ${s.min} | ${s.max}`;
console.log(command);
console.log(`played: ${played}; playlist: ${playlistTag}; results: ${file}`);
console.log('| ms | n | median | p90 | min | max |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(`| glass → player | ${latency.n} | ${f(latency)} |`);
if (summary.pdt_error_ms)
  console.log(
    `|   of which: changed frame's PDT − change | ${pdtError.length} | ${f(summary.pdt_error_ms)} |`,
  );
if (summary.pdt_to_shown_ms)
  console.log(
    `|   of which: shown − changed frame's PDT | ${pdtToShown.length} | ${f(summary.pdt_to_shown_ms)} |`,
  );
if (summary.page_latency_ms)
  console.log(`| /player shows | ${pageSays.length} | ${f(summary.page_latency_ms)} |`);
console.log(`| xdotool run (uncertainty) | ${changes.length} | ${f(summary.xdotool_ms)} |`);
if (summary.longest_gap_ms) {
  console.log(`| kill -9: longest gap between frames | ${kills.length} | ${f(summary.longest_gap_ms)} |`);
  console.log(`kills with a fatal hls.js error: ${summary.kills_with_fatal_error} of ${kills.length}`);
  for (const k of kills) {
    const d = k.diagnosis;
    const stalls = d.stalls.map((st) => `${st.ms} ms at +${st.from_ms} (${st.cause})`).join('; ') || 'none';
    console.log(
      `kill ${k.index + 1}: gap ${k.longest_gap_ms} ms at +${k.gap_from_ms}; new run listed +${d.new_run_listed_ms} ms, appended +${d.new_run_appended_ms} ms; back-buffer flushes ${d.back_buffer_flushes}; stalls: ${stalls}`,
    );
  }
}
for (const r of replugs) {
  console.log(
    `${r.step} ${r.index + 1}: ${r.new_picture ?? 'no new picture'} after ${r.new_picture_ms} ms; longest gap between frames ${r.longest_gap_ms} ms at +${r.gap_from_ms}`,
  );
}
console.log(`per change: ${changes.map((c) => `${c.to} ${c.glass_to_player_ms}`).join(', ')}`);
console.log(`page clock offset (Date.now − timeOrigin − now): ${summary.page_clock_offset_ms} ms`);

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { EncoderProbe } from '../../src/capture/encoders.ts';
import type { TimedMonitorReading } from '../../src/capture/monitor-watch.ts';
import type { Monitor } from '../../src/capture/types.ts';
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema.ts';
import type { HlsPublisher, HlsSnapshot, NewPart, PartRef, PublicSegment } from '../../src/hls/types.ts';
import { PipelineChild } from '../../src/pipeline/child.ts';
import { mediaStallSeconds, Supervisor, type SupervisorDeps } from '../../src/pipeline/supervisor.ts';
import type { SupervisorState } from '../../src/pipeline/types.ts';
import { recordEncodedStream } from '../fixtures/encoded-stream.ts';

const CHILDREN = new URL('../fixtures/children/', import.meta.url).pathname;
/** Writes real mpegtsmux output on fd 5 at real time, like the capture pipeline. */
const STREAMS = 'streams-ts.mjs';
const logger = pino({ level: 'silent' });

const MONITORS: Monitor[] = [
  { index: 0, name: 'DUMMY0', outputs: ['DUMMY0'], primary: true, x: 0, y: 0, width: 1920, height: 1080 },
  { index: 1, name: 'DUMMY1', outputs: ['DUMMY1'], primary: false, x: 1920, y: 0, width: 1280, height: 720 },
];

// 60 s of real H.264 in MPEG-TS as the capture pipeline makes it (15 fps as DEFAULT_CONFIG, a
// keyframe every second, SPS/PPS before each), made once for this file.
let mediaDir = '';
let mediaFile = '';
before(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'ds-supervisor-media-'));
  mediaFile = join(mediaDir, 'stream.ts');
  await recordEncodedStream(mediaFile, { fps: 15, width: 160, height: 90, gop: 15, frames: 900 });
});
after(async () => {
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

interface RecordedPart {
  run: number;
  bytes: number;
  duration: number;
  independent: boolean;
  startsSegment: boolean;
  endsSegment: boolean;
  programDateTime: number;
  /** When the supervisor handed it over (epoch ms). */
  at: number;
}

/**
 * Keeps parts in memory: enough to drive the supervisor (the real publisher has its own tests). It
 * records what it is told, in order, and notes every breach of the HlsPublisher contract.
 */
class MemoryPublisher implements HlsPublisher {
  readonly parts: RecordedPart[] = [];
  /** "begin N", "part N", "end N" in call order. */
  readonly calls: string[] = [];
  readonly violations: string[] = [];
  runs = 0;
  #inRun = false;
  #segmentOpen = false;
  #segments = 0;
  readonly #segmentListeners: ((s: PublicSegment) => void)[] = [];
  readonly #partListeners: ((p: PartRef & { programDateTime: number }) => void)[] = [];

  async start() {}
  async stop() {}
  async beginRun() {
    if (this.#inRun) this.violations.push(`beginRun while run ${this.runs} was not ended`);
    this.runs++;
    this.#inRun = true;
    this.#segmentOpen = false;
    this.calls.push(`begin ${this.runs}`);
  }
  async publishPart(part: NewPart) {
    const run = this.runs;
    if (!this.#inRun) this.violations.push(`part outside a run (after run ${run})`);
    if (part.startsSegment && !part.independent)
      this.violations.push(`run ${run}: segment opens with a dependent part`);
    if (part.startsSegment && this.#segmentOpen)
      this.violations.push(`run ${run}: segment opened before the last one ended`);
    if (!part.startsSegment && !this.#segmentOpen) this.violations.push(`run ${run}: part outside a segment`);
    this.#segmentOpen = !part.endsSegment;
    this.calls.push(`part ${run}`);
    this.parts.push({
      run,
      bytes: part.data.length,
      duration: part.durationSeconds,
      independent: part.independent,
      startsSegment: part.startsSegment,
      endsSegment: part.endsSegment,
      programDateTime: part.programDateTime,
      at: Date.now(),
    });
    const uri = `part-${this.parts.length - 1}.ts`;
    for (const listener of this.#partListeners)
      listener({
        uri,
        durationSeconds: part.durationSeconds,
        independent: part.independent,
        programDateTime: part.programDateTime,
      });
    if (!part.endsSegment) return null;
    const segment: PublicSegment = {
      sequence: this.#segments,
      uri: `seg-${this.#segments++}.ts`,
      durationSeconds: part.durationSeconds,
      bytes: part.data.length,
      programDateTime: part.programDateTime,
      discontinuity: false,
      frames: part.frames,
    };
    for (const listener of this.#segmentListeners) listener(segment);
    return segment;
  }
  async endRun() {
    if (!this.#inRun) this.violations.push(`endRun outside a run (after run ${this.runs})`);
    this.#inRun = false;
    this.#segmentOpen = false;
    this.calls.push(`end ${this.runs}`);
  }
  async cleanup() {
    return { removedFiles: 0, removedBytes: 0 };
  }
  snapshot(): HlsSnapshot {
    throw new Error('not used');
  }
  onSegment(listener: (s: PublicSegment) => void) {
    this.#segmentListeners.push(listener);
  }
  onPart(listener: (p: PartRef & { programDateTime: number }) => void) {
    this.#partListeners.push(listener);
  }
  partsOf(run: number): RecordedPart[] {
    return this.parts.filter((p) => p.run === run);
  }
}

interface Harness {
  supervisor: Supervisor;
  publisher: MemoryPublisher;
  states: SupervisorState[];
  argvs: string[][];
  /** When each pipeline was spawned (epoch ms). */
  spawnedAt: number[];
  /** How many times the supervisor asked xrandr (listMonitors). */
  monitorReads: () => number;
  setMonitors(monitors: Monitor[] | Error): void;
  /** The next pipeline runs this fake child; `env` is added to FAKE_MEDIA_TS (and to process.env). */
  setChild(script: string, env?: NodeJS.ProcessEnv): void;
}

async function harness(
  options: {
    config?: Partial<Config>;
    encoders?: EncoderProbe;
    child?: string;
    monitorWatch?: SupervisorDeps['monitorWatch'];
  } = {},
): Promise<Harness> {
  const publisher = new MemoryPublisher();
  let monitors: Monitor[] | Error = MONITORS;
  let reads = 0;
  let script = options.child ?? STREAMS;
  let childEnv: NodeJS.ProcessEnv = {};
  const states: SupervisorState[] = [];
  const argvs: string[][] = [];
  const spawnedAt: number[] = [];
  const supervisor = new Supervisor({
    config: { ...DEFAULT_CONFIG, ...options.config },
    logger,
    publisher,
    display: ':0',
    encoders: options.encoders ?? { available: new Set(['x264enc']), renderNode: null },
    listMonitors: async () => {
      reads++;
      if (monitors instanceof Error) throw monitors;
      return monitors;
    },
    spawnChild: (childOptions) => {
      argvs.push(childOptions.argv);
      spawnedAt.push(Date.now());
      return new PipelineChild({
        ...childOptions,
        command: join(CHILDREN, script),
        env: { FAKE_MEDIA_TS: mediaFile, ...childEnv },
        stopTimeoutMs: 500,
      });
    },
    onStateChange: (state) => states.push(state),
    ...(options.monitorWatch && { monitorWatch: options.monitorWatch }),
  });
  return {
    supervisor,
    publisher,
    states,
    argvs,
    spawnedAt,
    monitorReads: () => reads,
    setMonitors: (m) => {
      monitors = m;
    },
    setChild: (s, env = {}) => {
      script = s;
      childEnv = env;
    },
  };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * When the run's last part came from its stream, i.e. before the restart (epoch ms). A part is handed
 * over when the frame after it arrives, so the run's last frame came at this time or later. The part
 * published after the restart is what the dead run had left open (LiveStream.end()), not a frame.
 */
function lastStreamedPartAt(publisher: MemoryPublisher, run: number, restartAt: number): number {
  const streamed = publisher.partsOf(run).filter((p) => p.at < restartAt);
  assert.ok(streamed.length > 0, `run ${run} streamed before its restart`);
  return streamed.at(-1)!.at;
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('mediaStallSeconds', () => {
  it('is 1.5 s by default (DEFAULT_CONFIG, 15 fps)', () => {
    assert.equal(mediaStallSeconds(DEFAULT_CONFIG), 1.5);
    assert.equal(mediaStallSeconds({ stall_timeout: null, fps: 30 }), 1.5);
    assert.equal(mediaStallSeconds({ stall_timeout: null, fps: 60 }), 1.5);
  });

  it('is ten frame intervals at low frame rates', () => {
    assert.equal(mediaStallSeconds({ stall_timeout: null, fps: 5 }), 2);
    assert.equal(mediaStallSeconds({ stall_timeout: null, fps: 1 }), 10);
  });

  it('is stall_timeout when set, whatever the frame rate', () => {
    assert.equal(mediaStallSeconds({ stall_timeout: 1, fps: 15 }), 1);
    assert.equal(mediaStallSeconds({ stall_timeout: 4, fps: 1 }), 4);
  });
});

describe('Supervisor (fake children)', () => {
  it('streams: the run is cut into ~200 ms parts and keyframe-aligned segments with PTS-based PROGRAM-DATE-TIME', async (t) => {
    const h = await harness();
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('a complete segment and the first part of the next', () => {
      const first = h.publisher.parts.findIndex((p) => p.endsSegment);
      return first >= 0 && h.publisher.parts.length > first + 1;
    });
    const snapshot = h.supervisor.snapshot();
    assert.equal(snapshot.state, 'streaming');
    assert.equal(snapshot.gstState, 'PLAYING');
    assert.deepEqual(h.states.slice(0, 2), ['starting', 'streaming']);
    assert.ok(h.argvs[0]!.includes('startx=1920'), 'captures the second monitor');
    assert.ok(h.argvs[0]!.includes('fd=5'), 'the pipeline writes its stream on fd 5');
    assert.equal(h.publisher.runs, 1);
    assert.deepEqual(h.publisher.violations, []);

    const parts = h.publisher.parts;
    assert.equal(parts[0]!.independent, true, 'the first part starts with a keyframe');
    assert.equal(parts[0]!.startsSegment, true, 'the first part opens a segment');
    for (const [i, part] of parts.entries()) {
      assert.equal(part.run, 1);
      assert.ok(
        part.bytes > 0 && part.bytes % 188 === 0,
        `part ${i} is whole TS packets (${part.bytes} bytes)`,
      );
      assert.ok(
        Math.abs(part.duration - 0.2) < 0.001,
        `part ${i} lasts ${part.duration} s (3 frames at 15 fps)`,
      );
      // A keyframe every second: every fifth part is independent, and only those.
      assert.equal(part.independent, i % 5 === 0, `part ${i} independent`);
    }
    for (let i = 1; i < parts.length; i++) {
      const step = parts[i]!.programDateTime - parts[i - 1]!.programDateTime;
      const expected = parts[i - 1]!.duration * 1000;
      assert.ok(Math.abs(step - expected) <= 1, `PDT step ${i}: ${step} ms for a ${expected} ms part`);
    }
    // The segment ends at the first keyframe at or after segment_duration (2 s): ten parts.
    const end = parts.findIndex((p) => p.endsSegment);
    assert.equal(end, 9);
    const segmentSeconds = parts.slice(0, end + 1).reduce((sum, p) => sum + p.duration, 0);
    assert.ok(Math.abs(segmentSeconds - 2) < 0.001, `segment lasts ${segmentSeconds} s`);
    assert.equal(parts[end + 1]!.startsSegment, true);
    assert.equal(parts[end + 1]!.independent, true);
    // PDT is anchored to the wall clock: a part is handed over about when its last frame is complete.
    const lag = parts[0]!.at - parts[0]!.programDateTime;
    assert.ok(lag > 0 && lag < 1000, `first part handed over ${lag} ms after its PDT`);
  });

  it('restarts a pipeline that is killed, into a new run, after closing the killed run’s open segment', async (t) => {
    const h = await harness();
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('3 parts', () => h.publisher.parts.length >= 3);
    const pid = h.supervisor.snapshot().pipeline.pid!;
    process.kill(pid, 'SIGKILL');
    await until('a part of run 2', () => h.publisher.partsOf(2).length >= 1);
    const snapshot = h.supervisor.snapshot();
    assert.equal(snapshot.restartsByReason.exited, 1);
    assert.equal(snapshot.recentRestarts[0]?.detail, 'pipeline killed by SIGKILL');
    assert.equal(snapshot.errorsByType.process, 1);
    assert.equal(snapshot.backoffSeconds, 0.25, 'the first restart comes after 0.25 s');
    assert.notEqual(snapshot.pipeline.pid, pid);
    assert.equal(snapshot.state, 'streaming');
    assert.deepEqual(h.publisher.violations, []);

    const calls = h.publisher.calls;
    const begin2 = calls.indexOf('begin 2');
    assert.deepEqual(calls.slice(begin2 - 2, begin2 + 1), ['part 1', 'end 1', 'begin 2']);
    const run1 = h.publisher.partsOf(1);
    assert.equal(run1.at(-1)!.endsSegment, true, 'what the killed run sent is published as its last segment');
    assert.ok(run1.length >= 3);
    const run2 = h.publisher.partsOf(2);
    assert.equal(run2[0]!.startsSegment, true);
    assert.equal(run2[0]!.independent, true);
  });

  it('kills and restarts a pipeline that never sends media and ignores SIGINT/SIGTERM (stall timeout)', async (t) => {
    const h = await harness({ config: { stall_timeout: 1 }, child: 'hangs.sh' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    const firstPid = h.supervisor.snapshot().pipeline.pid!;
    h.setChild(STREAMS);
    await until('restart for stall', () => h.supervisor.snapshot().restartsByReason.stalled >= 1, 20_000);
    assert.match(h.supervisor.snapshot().recentRestarts[0]!.detail, /^no media for /);
    await until('streaming again', () => h.supervisor.snapshot().state === 'streaming');
    assert.ok(isGone(firstPid), 'the hung child is gone');
    assert.deepEqual(h.publisher.partsOf(1), [], 'the hung run sent nothing');
    assert.ok(h.publisher.partsOf(2).length > 0);
    assert.deepEqual(h.publisher.violations, []);
  });

  it('restarts a running pipeline whose media stops (SIGSTOPped) within about mediaStallSeconds', async (t) => {
    const h = await harness();
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('streaming, 3 parts', () => h.publisher.parts.length >= 3);
    const pid = h.supervisor.snapshot().pipeline.pid!;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    await until('restart for stall', () => h.supervisor.snapshot().restartsByReason.stalled >= 1, 10_000);
    const restart = h.supervisor.snapshot().recentRestarts.find((r) => r.reason === 'stalled')!;
    const lastPartAt = lastStreamedPartAt(h.publisher, 1, restart.at);
    const limitMs = mediaStallSeconds(DEFAULT_CONFIG) * 1000;
    assert.ok(
      restart.at - lastPartAt >= limitMs,
      `not before ${limitMs} ms of silence (${restart.at - lastPartAt} ms)`,
    );
    assert.ok(restart.at - stoppedAt < 5000, `restarted ${restart.at - stoppedAt} ms after the SIGSTOP`);
    await until(
      'streaming again',
      () => h.supervisor.snapshot().state === 'streaming' && h.publisher.runs === 2,
    );
    await until('the stopped child is gone', () => isGone(pid), 3000);
    assert.equal(h.publisher.calls.indexOf('end 1') + 1, h.publisher.calls.indexOf('begin 2'));
    assert.deepEqual(h.publisher.violations, []);
  });

  it('restarts a pipeline that is still running but has stopped writing media', async (t) => {
    const h = await harness();
    h.setChild(STREAMS, { FAKE_MEDIA_SECONDS: '1' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    const pid = h.supervisor.snapshot().pipeline.pid!;
    await until('restart for stall', () => h.supervisor.snapshot().restartsByReason.stalled >= 1, 10_000);
    const snapshot = h.supervisor.snapshot();
    const restart = snapshot.recentRestarts.find((r) => r.reason === 'stalled')!;
    assert.equal(snapshot.restartCount, 1, 'the stall was the only restart');
    assert.ok(h.states.includes('streaming'), 'the first second streamed');
    const lastPartAt = lastStreamedPartAt(h.publisher, 1, restart.at);
    const silenceMs = restart.at - lastPartAt;
    const limitMs = mediaStallSeconds(DEFAULT_CONFIG) * 1000;
    assert.ok(silenceMs >= limitMs && silenceMs < 5000, `restarted after ${silenceMs} ms without media`);
    await until('the silent child is gone', () => isGone(pid), 3000);
    await until('its run ended', () => h.publisher.calls.includes('end 1'));
    assert.equal(h.publisher.partsOf(1).at(-1)!.endsSegment, true, 'its open segment was closed');
    assert.deepEqual(h.publisher.violations, []);
  });

  it('does not wait for ever for a killed pipeline whose exit never shows (pipes held by a grandchild)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ds-supervisor-'));
    const pidFile = join(dir, 'grandchild.pid');
    let grandchild: number | null = null;
    const h = await harness({ config: { stall_timeout: 1 } });
    h.setChild('leaves-grandchild.sh', { FAKE_GRANDCHILD_PIDFILE: pidFile });
    t.after(async () => {
      await h.supervisor.stop();
      if (grandchild !== null && !isGone(grandchild)) process.kill(grandchild, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    await h.supervisor.start();
    const pid = h.supervisor.snapshot().pipeline.pid!;
    await until('the grandchild runs', () => {
      grandchild = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || null : null;
      return grandchild !== null;
    });
    h.setChild(STREAMS);
    await until('restart for stall', () => h.supervisor.snapshot().restartsByReason.stalled >= 1, 20_000);
    const restartAt = h.supervisor.snapshot().recentRestarts[0]!.at;
    await until('a new pipeline', () => h.spawnedAt.length >= 2, 10_000);
    // stopTimeoutMs (500 ms) for SIGINT, then at most 2 s after SIGKILL, then the first restart delay (0.25 s).
    const tookMs = h.spawnedAt[1]! - restartAt;
    assert.ok(tookMs < 500 + 2000 + 250 + 1500, `the next pipeline came ${tookMs} ms after the restart`);
    await until('streaming again', () => h.supervisor.snapshot().state === 'streaming');
    assert.ok(isGone(pid), 'the stuck pipeline itself was killed');
    assert.ok(!isGone(grandchild!), 'its pipes were still held: its close had not come');
    assert.deepEqual(h.publisher.violations, []);
  });

  it('a pipeline that always fails backs off and ends in the failed state; the API can start it again', async (t) => {
    const h = await harness({ config: { max_restarts: 3, restart_delay: 1 }, child: 'exits-1.sh' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    assert.equal(h.supervisor.isLoopHealthy(), true);
    await until('failed', () => h.supervisor.snapshot().state === 'failed', 20_000);
    assert.equal(h.supervisor.isLoopHealthy(), false, 'systemd watchdog pings stop in the failed state');
    const snapshot = h.supervisor.snapshot();
    assert.equal(snapshot.restartCount, 4);
    assert.equal(snapshot.pipeline.pid, null);
    assert.ok(snapshot.errorsByType.encoder >= 3, 'x264enc errors counted by type');
    assert.ok(h.states.includes('backoff'));
    assert.ok(snapshot.backoffSeconds >= 1, `backoff grew to ${snapshot.backoffSeconds}`);
    assert.equal(h.publisher.parts.length, 0);
    h.setChild(STREAMS);
    await h.supervisor.startStreaming();
    await until('streaming after start', () => h.supervisor.snapshot().state === 'streaming');
    assert.deepEqual(h.publisher.violations, []);
  });

  it('restarts on an error burst (more than max_errors within error_window)', async (t) => {
    const h = await harness({ config: { max_errors: 3 } });
    h.setChild(STREAMS, { FAKE_ERROR_ELEMENT: 'GstQueue:queue0' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('error burst restart', () => h.supervisor.snapshot().restartsByReason.error_burst >= 1);
    assert.match(h.supervisor.snapshot().recentRestarts[0]!.detail, /4 errors within 600 s/);
    assert.equal(h.supervisor.snapshot().recentErrors[0]!.element, 'queue0');
  });

  it('demotes a failing VAAPI encoder to the next one of the ladder', async (t) => {
    const h = await harness({
      encoders: { available: new Set(['vah264enc', 'x264enc']), renderNode: '/dev/dri/renderD128' },
    });
    h.setChild(STREAMS, { FAKE_ERROR_ELEMENT: 'GstVaH264Enc:vah264enc0' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    assert.ok(h.argvs[0]!.includes('vah264enc'));
    h.setChild(STREAMS);
    await until('demoted', () => h.supervisor.snapshot().restartsByReason.encoder_demoted === 1);
    await until(
      'streaming on x264',
      () => h.supervisor.snapshot().state === 'streaming' && h.publisher.runs === 2,
    );
    assert.ok(h.argvs.at(-1)!.includes('x264enc'));
    assert.match(h.supervisor.snapshot().capture!.encoder.reason, /vah264enc failed at run time/);
  });

  it('streams a "no signal" slate while the monitor is gone and captures again when it is back', async (t) => {
    const h = await harness({ config: { single_monitor_fallback: false } });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    h.setMonitors([MONITORS[0]!]);
    await until('no signal', () => h.supervisor.snapshot().state === 'no_signal', 10_000);
    assert.ok(h.argvs.at(-1)!.includes('videotestsrc'), 'slate pipeline');
    await until('the slate run streams', () => h.publisher.partsOf(2).length > 0);
    h.setMonitors(new Error('cannot list monitors on X display :0'));
    // Monitors are re-read every 3 s: wait for a reading after the X server went, then a little for its effect.
    const reads = h.monitorReads();
    await until('monitors read again', () => h.monitorReads() > reads, 5000);
    await sleep(300);
    assert.equal(h.supervisor.snapshot().state, 'no_signal', 'X server gone: the slate goes on');
    assert.equal(h.publisher.runs, 2, 'the slate was not restarted');
    h.setMonitors([MONITORS[0]!, { ...MONITORS[1]!, width: 1024, height: 768 }]);
    await until('capturing again', () => h.supervisor.snapshot().state === 'streaming', 10_000);
    assert.ok(h.argvs.at(-1)!.includes('endx=2943'), 'new geometry captured');
    const snapshot = h.supervisor.snapshot();
    assert.equal(snapshot.restartsByReason.capture_changed, 2);
    assert.equal(snapshot.restartCount, 2);
    assert.equal(h.publisher.runs, 3);
    assert.deepEqual(h.publisher.violations, []);
  });

  it('with a monitor watcher: ignores readings older than the running pipeline, follows newer ones', async (t) => {
    let watched: TimedMonitorReading | null = null;
    let looks = 0;
    const h = await harness({
      config: { single_monitor_fallback: false },
      monitorWatch: {
        current: () => {
          looks++;
          return watched;
        },
      },
    });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    watched = { monitors: [MONITORS[0]!], at: 0 }; // older than this run: must not flip it to the slate
    const seen = looks;
    await until('the watcher consulted', () => looks > seen, 5000);
    await sleep(300);
    assert.equal(h.supervisor.snapshot().state, 'streaming');
    h.setMonitors([MONITORS[0]!]);
    watched = { monitors: [MONITORS[0]!], at: Date.now() };
    await until('no signal', () => h.supervisor.snapshot().state === 'no_signal', 10_000);
    assert.equal(h.supervisor.snapshot().restartsByReason.capture_changed, 1);
  });

  it('with a monitor watcher that tells of new readings: each is looked at when it comes, not at the next watch turn', async (t) => {
    let watched: TimedMonitorReading | null = null;
    let looks = 0;
    const listeners: Array<() => void> = [];
    const h = await harness({
      config: { single_monitor_fallback: false },
      monitorWatch: {
        current: () => {
          looks++;
          return watched;
        },
        onReading: (listener) => listeners.push(listener),
      },
    });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    assert.equal(listeners.length, 1);
    h.setMonitors([MONITORS[0]!]);
    watched = { monitors: [MONITORS[0]!], at: Date.now() };
    const before = looks;
    for (const listener of listeners) listener();
    assert.ok(looks > before, 'the new reading was looked at right away');
    await until('no signal', () => h.supervisor.snapshot().state === 'no_signal', 10_000);
    assert.equal(h.supervisor.snapshot().restartsByReason.capture_changed, 1);
  });

  it('warnings of the capture elements make it ask xrandr at once: a lost monitor is acted on without a new watcher reading', async (t) => {
    // The watcher still says two monitors (its next answer is seconds away); the capture run
    // reports warnings from videoconvertscale, as it does once ximagesrc's region has left the screen.
    const watched: TimedMonitorReading = { monitors: MONITORS, at: Date.now() };
    const h = await harness({
      config: { single_monitor_fallback: false, max_errors: 1000 },
      monitorWatch: { current: () => watched },
    });
    t.after(() => h.supervisor.stop());
    h.setChild(STREAMS, { FAKE_WARNING_ELEMENT: 'GstVideoConvertScale:videoconvertscale0' });
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    const reads = h.monitorReads();
    h.setChild(STREAMS);
    h.setMonitors([MONITORS[0]!]);
    await until('no signal', () => h.supervisor.snapshot().state === 'no_signal', 10_000);
    assert.ok(h.monitorReads() > reads, 'xrandr was asked');
    assert.equal(h.supervisor.snapshot().restartsByReason.capture_changed, 1);
    assert.match(
      h.supervisor.snapshot().recentRestarts[0]!.detail,
      /^capture lost: monitor "auto" not found/,
    );
  });

  it('stops on request, closes the open segment and stays stopped', async () => {
    const h = await harness();
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    await h.supervisor.stopStreaming();
    assert.equal(h.publisher.calls.at(-1), 'end 1');
    assert.equal(h.publisher.parts.at(-1)!.endsSegment, true);
    const parts = h.publisher.parts.length;
    const spawned = h.argvs.length;
    // Long enough for a watch tick (250 ms) and a first restart (0.25 s) to have launched a pipeline.
    await sleep(750);
    assert.equal(h.supervisor.snapshot().state, 'stopped');
    assert.equal(h.supervisor.snapshot().pipeline.pid, null);
    assert.equal(h.argvs.length, spawned, 'no pipeline started');
    assert.equal(h.publisher.parts.length, parts);
    assert.equal(h.supervisor.isLoopHealthy(), true, 'stopped on request is not a fault');
    await h.supervisor.stop();
    assert.equal(h.supervisor.isLoopHealthy(), false);
    assert.deepEqual(h.publisher.violations, []);
  });
});

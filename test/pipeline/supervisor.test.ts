import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { EncoderProbe } from '../../src/capture/encoders.ts';
import type { TimedMonitorReading } from '../../src/capture/monitor-watch.ts';
import type { Monitor } from '../../src/capture/types.ts';
import { type Config, DEFAULT_CONFIG } from '../../src/config/schema.ts';
import type { HlsPublisher, HlsSnapshot, PublicSegment } from '../../src/hls/types.ts';
import { PipelineChild } from '../../src/pipeline/child.ts';
import { Supervisor, type SupervisorDeps } from '../../src/pipeline/supervisor.ts';
import type { SupervisorState } from '../../src/pipeline/types.ts';

const CHILDREN = new URL('../fixtures/children/', import.meta.url).pathname;
const logger = pino({ level: 'silent' });

const MONITORS: Monitor[] = [
  { index: 0, name: 'DUMMY0', outputs: ['DUMMY0'], primary: true, x: 0, y: 0, width: 1920, height: 1080 },
  { index: 1, name: 'DUMMY1', outputs: ['DUMMY1'], primary: false, x: 1920, y: 0, width: 1280, height: 720 },
];

/** Keeps segments in memory: enough to drive the supervisor (the real publisher has its own tests). */
class MemoryPublisher implements HlsPublisher {
  readonly published: { file: string; duration: number; startedAt: number | undefined }[] = [];
  readonly #listeners: ((s: PublicSegment) => void)[] = [];
  #runs = 0;
  constructor(readonly root: string) {}
  async start() {}
  async stop() {}
  async beginRun() {
    const dir = join(this.root, `run-${++this.#runs}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }
  async publishSegment(file: string, duration: number, startedAt?: number) {
    const names = await readdir(join(file, '..'));
    if (!names.includes(file.split('/').pop()!)) throw new Error(`missing ${file}`);
    this.published.push({ file, duration, startedAt });
    const segment: PublicSegment = {
      sequence: this.published.length - 1,
      uri: `seg-${this.published.length - 1}.ts`,
      durationSeconds: duration,
      bytes: 10,
      programDateTime: Date.now(),
      discontinuity: false,
      frames: null,
    };
    for (const listener of this.#listeners) listener(segment);
    return segment;
  }
  async cleanup() {
    return { removedFiles: 0, removedBytes: 0 };
  }
  snapshot(): HlsSnapshot {
    throw new Error('not used');
  }
  onSegment(listener: (s: PublicSegment) => void) {
    this.#listeners.push(listener);
  }
}

interface Harness {
  supervisor: Supervisor;
  publisher: MemoryPublisher;
  states: SupervisorState[];
  argvs: string[][];
  setMonitors(monitors: Monitor[] | Error): void;
  setChild(script: string, env?: NodeJS.ProcessEnv): void;
}

async function harness(
  options: {
    config?: Partial<Config>;
    encoders?: EncoderProbe;
    child?: string;
    monitorWatch?: SupervisorDeps['monitorWatch'];
  } = {},
) {
  const root = await mkdtemp(join(tmpdir(), 'ds-supervisor-'));
  const publisher = new MemoryPublisher(root);
  let monitors: Monitor[] | Error = MONITORS;
  let script = options.child ?? 'segments.sh';
  let childEnv: NodeJS.ProcessEnv = {};
  const states: SupervisorState[] = [];
  const argvs: string[][] = [];
  const supervisor = new Supervisor({
    config: { ...DEFAULT_CONFIG, output_dir: root, ...options.config },
    logger,
    publisher,
    display: ':0',
    encoders: options.encoders ?? { available: new Set(['x264enc']), renderNode: null },
    listMonitors: async () => {
      if (monitors instanceof Error) throw monitors;
      return monitors;
    },
    spawnChild: (childOptions) => {
      argvs.push(childOptions.argv);
      return new PipelineChild({
        ...childOptions,
        command: join(CHILDREN, script),
        env: childEnv,
        stopTimeoutMs: 500,
      });
    },
    onStateChange: (state) => states.push(state),
    ...(options.monitorWatch && { monitorWatch: options.monitorWatch }),
  });
  const h: Harness = {
    supervisor,
    publisher,
    states,
    argvs,
    setMonitors: (m) => {
      monitors = m;
    },
    setChild: (s, env = {}) => {
      script = s;
      childEnv = env;
    },
  };
  return h;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Supervisor (fake children)', () => {
  it('streams: segments of the run are handed to the publisher with durations from running-time', async (t) => {
    const h = await harness();
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('3 segments', () => h.publisher.published.length >= 3);
    assert.equal(h.supervisor.snapshot().state, 'streaming');
    assert.equal(h.supervisor.snapshot().gstState, 'PLAYING');
    assert.match(h.publisher.published[0]!.file, /run-1\/segment00000\.ts$/);
    assert.match(h.publisher.published[2]!.file, /run-1\/segment00002\.ts$/);
    assert.equal(h.publisher.published[1]!.duration, 0.2);
    // PROGRAM-DATE-TIME from the pipeline's running time (PLAYING + fragment start), not the publish time.
    const [first, second] = h.publisher.published;
    assert.ok(first!.startedAt !== undefined && second!.startedAt !== undefined);
    assert.equal(second!.startedAt - first!.startedAt, 200);
    assert.deepEqual(h.states.slice(0, 2), ['starting', 'streaming']);
    assert.ok(h.argvs[0]!.includes('startx=1920'), 'captures the second monitor');
  });

  it('restarts a pipeline that exits, into a new run, and counts it', async (t) => {
    const h = await harness();
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('first segment', () => h.publisher.published.length >= 1);
    const pid = h.supervisor.snapshot().pipeline.pid!;
    process.kill(pid, 'SIGKILL');
    await until('a segment of run 2', () => h.publisher.published.some((p) => p.file.includes('run-2/')));
    const snapshot = h.supervisor.snapshot();
    assert.equal(snapshot.restartsByReason.exited, 1);
    assert.equal(snapshot.recentRestarts[0]?.detail, 'pipeline killed by SIGKILL');
    assert.equal(snapshot.errorsByType.process, 1);
    assert.notEqual(snapshot.pipeline.pid, pid);
  });

  it('kills and restarts a hung pipeline that ignores SIGINT/SIGTERM (stall timeout)', async (t) => {
    const h = await harness({ config: { stall_timeout: 1 }, child: 'hangs.sh' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    const firstPid = h.supervisor.snapshot().pipeline.pid!;
    h.setChild('segments.sh');
    await until('restart for stall', () => h.supervisor.snapshot().restartsByReason.stalled >= 1, 20_000);
    await until('streaming again', () => h.supervisor.snapshot().state === 'streaming');
    assert.throws(() => process.kill(firstPid, 0), /ESRCH/, 'the hung child is gone');
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
    h.setChild('segments.sh');
    await h.supervisor.startStreaming();
    await until('streaming after start', () => h.supervisor.snapshot().state === 'streaming');
  });

  it('restarts on an error burst (more than max_errors within error_window)', async (t) => {
    const h = await harness({ config: { max_errors: 3 } });
    h.setChild('segments.sh', { FAKE_ERROR_ELEMENT: 'GstQueue:queue0' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('error burst restart', () => h.supervisor.snapshot().restartsByReason.error_burst >= 1);
    assert.match(h.supervisor.snapshot().recentRestarts[0]!.detail, /4 errors within 600 s/);
  });

  it('demotes a failing VAAPI encoder to the next one of the ladder', async (t) => {
    const h = await harness({
      encoders: { available: new Set(['vah264enc', 'x264enc']), renderNode: '/dev/dri/renderD128' },
    });
    h.setChild('segments.sh', { FAKE_ERROR_ELEMENT: 'GstVaH264Enc:vah264enc0' });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    assert.ok(h.argvs[0]!.includes('vah264enc'));
    h.setChild('segments.sh');
    await until('demoted', () => h.supervisor.snapshot().restartsByReason.encoder_demoted === 1);
    await until('streaming on x264', () => h.supervisor.snapshot().state === 'streaming');
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
    h.setMonitors(new Error('cannot list monitors on X display :0'));
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(h.supervisor.snapshot().state, 'no_signal', 'X server gone: the slate goes on');
    h.setMonitors([MONITORS[0]!, { ...MONITORS[1]!, width: 1024, height: 768 }]);
    await until('capturing again', () => h.supervisor.snapshot().state === 'streaming', 10_000);
    assert.ok(h.argvs.at(-1)!.includes('endx=2943'), 'new geometry captured');
    const snapshot = h.supervisor.snapshot();
    assert.equal(snapshot.restartsByReason.capture_changed, 2);
  });

  it('with a monitor watcher: ignores readings older than the running pipeline, follows newer ones', async (t) => {
    let watched: TimedMonitorReading | null = null;
    const h = await harness({
      config: { single_monitor_fallback: false },
      monitorWatch: { current: () => watched },
    });
    t.after(() => h.supervisor.stop());
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    watched = { monitors: [MONITORS[0]!], at: 0 }; // older than this run: must not flip it to the slate
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(h.supervisor.snapshot().state, 'streaming');
    h.setMonitors([MONITORS[0]!]);
    watched = { monitors: [MONITORS[0]!], at: Date.now() };
    await until('no signal', () => h.supervisor.snapshot().state === 'no_signal', 10_000);
    assert.equal(h.supervisor.snapshot().restartsByReason.capture_changed, 1);
  });

  it('stops on request and stays stopped', async () => {
    const h = await harness();
    await h.supervisor.start();
    await until('streaming', () => h.supervisor.snapshot().state === 'streaming');
    await h.supervisor.stopStreaming();
    const count = h.publisher.published.length;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(h.supervisor.snapshot().state, 'stopped');
    assert.equal(h.publisher.published.length, count);
    assert.equal(h.supervisor.isLoopHealthy(), true, 'stopped on request is not a fault');
    await h.supervisor.stop();
    assert.equal(h.supervisor.isLoopHealthy(), false);
  });
});

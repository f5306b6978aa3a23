/**
 * The supervisor: keeps one pipeline child streaming into the HLS publisher, and heals it.
 *
 * - exit of the child → restart (reason "exited"); what it sent is published at once as the last part
 * - no media from the child within the stall timeout (hung, SIGSTOPped, starved) → kill + restart ("stalled")
 * - more than max_errors errors within error_window → restart ("error_burst")
 * - a VAAPI encoder failing → next encoder of the ladder ("encoder_demoted")
 * - the monitor (or the whole X server) gone → a "no signal" slate until it is back ("capture_changed")
 * - restarts back off exponentially up to restart_delay; more than max_restarts within restart_window → failed
 */
import type { EncoderProbe } from '../capture/encoders.ts';
import { chooseEncoder } from '../capture/encoders.ts';
import type { MonitorReading, TimedMonitorReading } from '../capture/monitor-watch.ts';
import { describeMonitors, geometryOf, listMonitors } from '../capture/monitors.ts';
import { buildCaptureArgs, buildSlateArgs } from '../capture/pipeline-argv.ts';
import { type CaptureMode, describeCaptureChange, planCapture, sameCapture } from '../capture/plan.ts';
import type { EncoderElement, Monitor } from '../capture/types.ts';
import type { Config } from '../config/schema.ts';
import { nominalPartSeconds } from '../hls/low-latency.ts';
import type { HlsPublisher, PartRef } from '../hls/types.ts';
import type { Logger } from '../logger.ts';
import { LiveStream } from '../media/live-stream.ts';
import type { TsFrame } from '../media/ts-frame-splitter.ts';
import type { PictureTap } from '../picture/tap.ts';
import { Backoff, SlidingWindow } from './backoff.ts';
import type { BusEvent } from './bus-parser.ts';
import { type ChildExit, describeExit, PipelineChild, type PipelineChildOptions } from './child.ts';
import { OUTPUT_DIR_ENV } from './orphans.ts';
import {
  type GstState,
  PIPELINE_ERROR_TYPES,
  type PipelineErrorRecord,
  type PipelineErrorType,
  RESTART_REASONS,
  type RestartReason,
  type RestartRecord,
  type SupervisorControl,
  type SupervisorSnapshot,
  type SupervisorState,
} from './types.ts';

const HISTORY_LIMIT = 50;
/**
 * The watch loop turns at least this often. It is not a fast poll: it wakes at the stall deadline
 * when that comes sooner, so a stall is seen the moment it is one (each wake-up of an otherwise
 * idle process costs CPU; a 250 ms poll was 4 of the supervisor's ≈ 45 wake-ups a second).
 */
const WATCH_MAX_INTERVAL_MS = 1000;
/** Never sooner than this (a deadline already past, a clock that jumped). */
const WATCH_MIN_INTERVAL_MS = 50;
/** Without a monitor watcher: how often xrandr is asked, to notice an unplug, a replug or a geometry change. */
const MONITOR_POLL_MS = 3000;
/** Pipeline errors and capture-element warnings ask xrandr for the monitors at most this often. */
const CAPTURE_RECHECK_MIN_MS = 1000;
/** The elements that capture and convert the picture (element names as gst-launch numbers them). */
const CAPTURE_ELEMENT = /^(ximagesrc|videoconvert)/;
/** The watch loop counts as stuck (systemd watchdog) when it has not turned for this long. */
const WATCH_STALE_MS = 5000;
/** Extra time a fresh pipeline gets for its first part (encoder start-up, X connection). */
const STARTUP_GRACE_SECONDS = 5;
/** In `backoff` or `starting` this much longer than the longest wait there can be: stuck (systemd watchdog). */
const STUCK_MARGIN_SECONDS = 30;

/**
 * Seconds without a frame from the pipeline before it counts as stalled: `stall_timeout` when
 * set, else 1.5 s (ten frame intervals at very low frame rates).
 */
export function mediaStallSeconds(config: Pick<Config, 'stall_timeout' | 'fps'>): number {
  return config.stall_timeout ?? Math.max(1.5, 10 / config.fps);
}

export interface SupervisorDeps {
  config: Config;
  logger: Logger;
  publisher: HlsPublisher;
  display: string;
  encoders: EncoderProbe;
  /** Injected for tests. */
  listMonitors?: (display: string) => Promise<Monitor[]>;
  /**
   * Latest monitor layout from a long-lived poller (src/capture/monitor-watch.ts), with a call for
   * each new reading; without it, xrandr is asked every MONITOR_POLL_MS.
   */
  monitorWatch?: { current(): TimedMonitorReading | null; onReading?(listener: () => void): void };
  spawnChild?: (options: PipelineChildOptions) => Pick<PipelineChild, 'start' | 'stop' | 'kill' | 'pid'>;
  now?: () => number;
  /** Frozen/black screen detection and snapshots from a low-rate branch of the capture pipeline. */
  picture?: PictureTap;
  /** Every encoded frame, for WebRTC viewers (src/webrtc/video-fanout.ts); told when a new run starts. */
  video?: { newRun(): void; pushFrame(frame: TsFrame): void };
  /** Whether a viewer needs each frame at once (src/media/frame-demand.ts); without it, always. */
  frameDemand?: { everyFrame(): boolean };
  /** Called on every state change (sd_notify STATUS=, READY=1). */
  onStateChange?: (state: SupervisorState, snapshot: SupervisorSnapshot) => void;
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY_LIMIT) list.shift();
}

export class Supervisor implements SupervisorControl {
  readonly #deps: SupervisorDeps;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #listMonitors: (display: string) => Promise<Monitor[]>;
  readonly #backoff: Backoff;
  readonly #restartWindow: SlidingWindow;
  readonly #errorWindow: SlidingWindow;
  readonly #demoted = new Set<EncoderElement>();

  #state: SupervisorState = 'stopped';
  #stateSince: number;
  #gstState: GstState = 'NULL';
  readonly #startedAt: number;
  #mode: CaptureMode | null = null;
  /** What xrandr printed when it last failed (null once it answers): tells a refused X connection from a missing one. */
  #displayError: string | null = null;
  #child: Pick<PipelineChild, 'start' | 'stop' | 'kill' | 'pid'> | null = null;
  #childStartedAt: number | null = null;
  #argv: string[] = [];
  #media: LiveStream | null = null;
  #lastProgressAt = 0;
  #restartCount = 0;
  readonly #restartsByReason = zeroCounts(RESTART_REASONS);
  readonly #recentRestarts: RestartRecord[] = [];
  readonly #errorsByType = zeroCounts(PIPELINE_ERROR_TYPES);
  readonly #recentErrors: PipelineErrorRecord[] = [];
  #warningsTotal = 0;
  #backoffSeconds = 0;
  readonly #stateHistory: { state: SupervisorState; at: number }[] = [];
  #restartTimer: NodeJS.Timeout | null = null;
  #watchTimer: NodeJS.Timeout | null = null;
  /** Serialises launches/stops so a restart never overlaps another. */
  #transition: Promise<void> = Promise.resolve();
  #generation = 0;
  #lastMonitorPollAt = 0;
  /** `at` of the monitor watcher's reading last looked at. */
  #lastWatchedReadingAt: number | null = null;
  #lastWatchAt = 0;
  #captureRecheckAt = 0;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.#log = deps.logger.child({ module: 'supervisor' });
    this.#now = deps.now ?? Date.now;
    this.#listMonitors = deps.listMonitors ?? listMonitors;
    this.#startedAt = this.#now();
    this.#stateSince = this.#startedAt;
    this.#backoff = new Backoff({
      // The stream is gone for every viewer until the next run: the first retry comes at once.
      firstDelaySeconds: 0.25,
      maxDelaySeconds: this.#config.restart_delay,
      healthyAfterSeconds: 60,
    });
    this.#restartWindow = new SlidingWindow(this.#config.restart_window);
    this.#errorWindow = new SlidingWindow(this.#config.error_window);
    deps.publisher.onPart((part) => this.#onPart(part));
    deps.monitorWatch?.onReading?.(() => this.#onMonitorReading());
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    this.#lastWatchAt = this.#now();
    this.#scheduleWatch();
    await this.#serialise(() => this.#launch());
  }

  async stop(): Promise<void> {
    if (this.#watchTimer) clearTimeout(this.#watchTimer);
    this.#watchTimer = null;
    await this.stopStreaming();
  }

  // ---- SupervisorControl -------------------------------------------------------------------

  async startStreaming(): Promise<void> {
    if (this.#state !== 'stopped' && this.#state !== 'failed') return;
    this.#restartWindow.clear();
    this.#backoff.reset();
    await this.#serialise(() => this.#launch());
  }

  async stopStreaming(): Promise<void> {
    this.#cancelRestart();
    await this.#serialise(async () => {
      this.#cancelRestart(); // a restart scheduled while this step waited its turn
      await this.#stopChild();
      this.#setState('stopped');
    });
  }

  async restart(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'failed') return this.startStreaming();
    await this.#restart('manual', 'requested through the API', { immediate: true });
  }

  /** For the systemd watchdog: the watch loop turned recently and the supervisor has not given up. */
  isLoopHealthy(): boolean {
    const now = this.#now();
    const stale = now - this.#lastWatchAt > WATCH_STALE_MS;
    // Between runs for far longer than any backoff: something the supervisor waits on is stuck.
    const stuck =
      (this.#state === 'backoff' || this.#state === 'starting') &&
      now - this.#stateSince >
        (Math.max(this.#config.restart_delay, STARTUP_GRACE_SECONDS) + STUCK_MARGIN_SECONDS) * 1000;
    return this.#watchTimer !== null && !stale && !stuck && this.#state !== 'failed';
  }

  snapshot(): SupervisorSnapshot {
    const now = this.#now();
    return {
      state: this.#state,
      stateSince: this.#stateSince,
      gstState: this.#gstState,
      startedAt: this.#startedAt,
      capture: this.#mode?.plan ?? null,
      pipeline: { pid: this.#child?.pid ?? null, startedAt: this.#childStartedAt, argv: [...this.#argv] },
      restartCount: this.#restartCount,
      restartsByReason: { ...this.#restartsByReason },
      recentRestarts: [...this.#recentRestarts],
      errorsByType: { ...this.#errorsByType },
      recentErrors: [...this.#recentErrors],
      errorsInWindow: this.#errorWindow.count(now),
      lastError: this.#recentErrors.at(-1) ?? null,
      warningsTotal: this.#warningsTotal,
      backoffSeconds: this.#backoffSeconds,
      stateHistory: [...this.#stateHistory],
      displayError: this.#displayError,
    };
  }

  // ---- launching -----------------------------------------------------------------------------

  #serialise(step: () => Promise<void>): Promise<void> {
    const next = this.#transition.then(step, step);
    this.#transition = next.catch((error: unknown) => {
      this.#log.error({ err: (error as Error).message }, 'supervisor transition failed');
    });
    return next;
  }

  /** Ask xrandr now (at every launch). */
  async #readMonitors(): Promise<MonitorReading> {
    try {
      return { monitors: await this.#listMonitors(this.#deps.display) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  #planCapture(reading: MonitorReading): CaptureMode {
    this.#displayError = 'error' in reading ? reading.error : null;
    const encoder = chooseEncoder(this.#config.encoder, this.#deps.encoders, this.#demoted);
    return planCapture(reading, this.#config, this.#deps.display, encoder);
  }

  async #launch(): Promise<void> {
    this.#cancelRestart();
    await this.#stopChild();
    try {
      await this.#startPipeline();
    } catch (error) {
      // A run that cannot even begin (output dir read-only or full, no encoder left…) is a failed
      // start: retry it with backoff like a crash. Without this the supervisor sat in `backoff`
      // for good, with no pipeline and no timer, after a transient cause had long gone.
      const detail = `cannot start the pipeline: ${(error as Error).message}`;
      void this.#restart('exited', detail, { afterFailedLaunch: true });
      this.#recordError('resource', detail, null);
    }
  }

  async #startPipeline(): Promise<void> {
    const reading = await this.#readMonitors();
    const mode = this.#planCapture(reading);
    this.#mode = mode;
    if (mode.kind === 'capture' && mode.plan.fallbackToPrimary && 'monitors' in reading) {
      this.#log.warn(
        { monitors: describeMonitors(reading.monitors) },
        'only one monitor: streaming the primary monitor (set single_monitor_fallback=false to show a slate instead)',
      );
    }
    await this.#deps.publisher.beginRun();
    const video = this.#deps.video;
    video?.newRun();
    const media = new LiveStream({
      fps: this.#config.fps,
      partSeconds: nominalPartSeconds(this.#config.fps),
      segmentSeconds: this.#config.segment_duration,
      now: this.#now,
      onFrame: (frame) => {
        this.#lastProgressAt = this.#now();
        video?.pushFrame(frame);
      },
      onPart: (part) =>
        this.#deps.publisher.publishPart(part).catch((error: unknown) => {
          // The stream goes on from memory; a restart would not make the disk writable.
          this.#recordError('resource', `publishing media failed: ${(error as Error).message}`, null, {
            restarts: false,
          });
        }),
    });
    this.#media = media;
    const picture = mode.kind === 'capture' ? this.#deps.picture : undefined;
    picture?.resetStreams();
    if (mode.kind === 'capture') {
      this.#argv = buildCaptureArgs(mode.plan, { pictureTap: picture !== undefined });
      this.#log.info(
        {
          monitor: mode.plan.monitor.name,
          geometry: geometryOf(mode.plan.monitor),
          encoder: mode.plan.encoder.element,
          why: mode.plan.encoder.reason,
        },
        'capturing',
      );
    } else {
      this.#argv = buildSlateArgs(mode.plan, 'No signal');
      this.#log.warn({ why: mode.why }, 'nothing to capture: streaming the "no signal" slate');
    }
    const generation = ++this.#generation;
    const spawn = this.#deps.spawnChild ?? ((options: PipelineChildOptions) => new PipelineChild(options));
    const child = spawn({
      argv: this.#argv,
      // Whose pipeline it is, for the next supervisor should this one die without stopping it.
      env: { [OUTPUT_DIR_ENV]: this.#config.output_dir },
      logger: this.#log.child({ module: 'pipeline' }),
      onEvent: (event) => {
        if (generation === this.#generation) this.#onBusEvent(event);
      },
      onExit: (exit) => {
        this.#endMedia(media); // every byte it sent has been read by now ('close')
        if (generation === this.#generation) this.#onExit(exit);
      },
      onMedia: (chunk) => media.push(chunk),
      ...(this.#deps.frameDemand && { everyFrame: () => this.#deps.frameDemand!.everyFrame() }),
      ...(picture && { pictureTap: { gray: (c) => picture.feedGray(c), jpeg: (c) => picture.feedJpeg(c) } }),
    });
    this.#child = child;
    this.#childStartedAt = this.#now();
    this.#lastProgressAt = this.#childStartedAt;
    this.#gstState = 'NULL';
    await child.start();
    this.#setState(mode.kind === 'slate' ? 'no_signal' : 'starting');
  }

  async #stopChild(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#generation++; // events of the old child are ignored from here on
    this.#child = null;
    this.#childStartedAt = null;
    const media = this.#media;
    await child.stop();
    if (media) this.#endMedia(media);
    this.#gstState = 'NULL';
  }

  /** The run is over: what it sent is published at once as its last (shorter) segment. */
  #endMedia(media: LiveStream): void {
    if (media.ended) return;
    media.end();
    if (this.#media === media) this.#media = null;
    void this.#deps.publisher.endRun();
  }

  // ---- events -------------------------------------------------------------------------------

  #onBusEvent(event: BusEvent): void {
    switch (event.kind) {
      case 'state-changed':
        if (!event.isPipeline) break;
        this.#gstState = event.to;
        // Running time 0 of a live pipeline is the moment it goes to PLAYING.
        if (event.to === 'PLAYING') this.#media?.playing(this.#now());
        break;
      case 'warning':
        this.#warningsTotal++;
        this.#log.warn({ element: event.element }, event.message);
        if (CAPTURE_ELEMENT.test(event.element ?? '')) this.#recheckCaptureSoon();
        break;
      case 'error':
        this.#recordError(event.type, event.message, event.element);
        this.#recheckCaptureSoon();
        break;
      case 'eos':
        break;
    }
  }

  #recordError(
    type: PipelineErrorType,
    message: string,
    element: string | null,
    options: { restarts?: boolean } = {},
  ): void {
    const at = this.#now();
    this.#errorsByType[type]++;
    pushBounded(this.#recentErrors, { at, type, message, element });
    this.#log.error({ type, element }, message);
    if (options.restarts === false) return;
    if (type === 'encoder' && this.#mode?.kind === 'capture' && this.#isHardwareEncoder()) {
      this.#demoteEncoder(message);
      return;
    }
    const inWindow = this.#errorWindow.add(at);
    if (inWindow > this.#config.max_errors) {
      this.#errorWindow.clear();
      void this.#restart('error_burst', `${inWindow} errors within ${this.#config.error_window} s`);
    }
  }

  #isHardwareEncoder(): boolean {
    const element = this.#mode?.plan.encoder.element;
    return element === 'vah264enc' || element === 'vaapih264enc';
  }

  #demoteEncoder(message: string): void {
    const failed = this.#mode!.plan.encoder.element;
    this.#demoted.add(failed);
    this.#log.warn(
      { encoder: failed, error: message },
      'hardware encoder failed: trying the next encoder of the ladder',
    );
    void this.#restart('encoder_demoted', `${failed} failed: ${message}`, { immediate: true });
  }

  #onExit(exit: ChildExit): void {
    this.#gstState = 'NULL';
    if (exit.requested) return;
    const detail = `pipeline ${describeExit(exit)}`;
    if (exit.code !== 0) this.#recordError('process', detail, null);
    void this.#restart('exited', detail);
  }

  #onPart(part: PartRef): void {
    const now = this.#now();
    if (this.#childStartedAt !== null) this.#backoff.noteHealthy((now - this.#childStartedAt) / 1000);
    if (this.#state === 'starting') this.#setState('streaming');
    if (part.independent) this.#log.debug({ part: part.uri }, 'keyframe part published');
  }

  /** Stall detection and monitor changes: the next turn of the watch loop (see WATCH_MAX_INTERVAL_MS). */
  #scheduleWatch(): void {
    const untilStall = this.#stallDeadline() - this.#now();
    const delay = Math.max(WATCH_MIN_INTERVAL_MS, Math.min(WATCH_MAX_INTERVAL_MS, untilStall));
    this.#watchTimer = setTimeout(() => {
      void this.#watch();
      // After the watch's synchronous part: a restart it began has already left the watched states.
      if (this.#watchTimer !== null) this.#scheduleWatch();
    }, delay);
    this.#watchTimer.unref();
  }

  /** Limit of silence from the pipeline in the current state, in seconds, or null where none is watched. */
  #stallLimitSeconds(): number | null {
    if (this.#state !== 'starting' && this.#state !== 'streaming' && this.#state !== 'no_signal') return null;
    return mediaStallSeconds(this.#config) + (this.#state === 'starting' ? STARTUP_GRACE_SECONDS : 0);
  }

  /** When the pipeline counts as stalled if no frame comes before (epoch ms; +∞ when not watched). */
  #stallDeadline(): number {
    const limit = this.#stallLimitSeconds();
    return limit === null ? Number.POSITIVE_INFINITY : this.#lastProgressAt + limit * 1000 + 1;
  }

  async #watch(): Promise<void> {
    const now = this.#now();
    this.#lastWatchAt = now;
    const limit = this.#stallLimitSeconds();
    if (limit !== null) {
      const silentFor = (now - this.#lastProgressAt) / 1000;
      if (silentFor > limit) {
        this.#child?.kill(); // a hung (even SIGSTOPped) pipeline never acts on SIGINT
        await this.#restart('stalled', `no media for ${silentFor.toFixed(1)} s (limit ${limit} s)`);
        return;
      }
    }
    this.#onMonitorReading();
  }

  /** A new monitor reading may be there: act on a monitor that came, went or changed. */
  #onMonitorReading(): void {
    if ((this.#state === 'streaming' || this.#state === 'no_signal') && this.#monitorsDue())
      void this.#checkCaptureChanged();
  }

  /**
   * A capture run that reports errors, or warnings from its capture elements, may have lost its
   * monitor: after an unplug ximagesrc goes on capturing a region the screen no longer has
   * (warnings "Internal GStreamer error: code not implemented" from videoconvertscale, then
   * monitor 1's picture) and does not exit. Ask xrandr at once instead of waiting for the
   * watcher's next answer (up to 3 s), at most once a second.
   */
  #recheckCaptureSoon(): void {
    const now = this.#now();
    if (this.#mode?.kind !== 'capture' || now - this.#captureRecheckAt < CAPTURE_RECHECK_MIN_MS) return;
    this.#captureRecheckAt = now;
    void this.#checkCaptureChanged({ fresh: true });
  }

  /**
   * With a watcher: as soon as it has a new reading (it polls xrandr itself and calls us), so an
   * unplug is acted on as soon as it is seen. Without: every MONITOR_POLL_MS (a fork).
   */
  #monitorsDue(): boolean {
    if (!this.#deps.monitorWatch) {
      const now = this.#now();
      if (now - this.#lastMonitorPollAt < MONITOR_POLL_MS) return false;
      this.#lastMonitorPollAt = now;
      return true;
    }
    const at = this.#deps.monitorWatch.current()?.at ?? null;
    if (at === this.#lastWatchedReadingAt) return false;
    this.#lastWatchedReadingAt = at;
    return true;
  }

  async #checkCaptureChanged(options: { fresh?: boolean } = {}): Promise<void> {
    const current = this.#mode;
    if (!current) return;
    let reading: MonitorReading;
    if (this.#deps.monitorWatch && !options.fresh) {
      // The watcher's answer (no fork), once it is newer than what this run was planned from.
      const watched = this.#deps.monitorWatch.current();
      if (!watched || watched.at < (this.#childStartedAt ?? Number.POSITIVE_INFINITY)) return;
      reading = watched;
    } else {
      reading = await this.#readMonitors();
    }
    const next = this.#planCapture(reading);
    if (this.#mode !== current || (this.#state !== 'streaming' && this.#state !== 'no_signal')) return;
    if (sameCapture(next, current)) return;
    // A monitor coming or going is not the pipeline's fault: no backoff, no restart budget.
    await this.#restart('capture_changed', describeCaptureChange(next), { immediate: true, counted: false });
  }

  // ---- restarting ---------------------------------------------------------------------------

  async #restart(
    reason: RestartReason,
    detail: string,
    options: { immediate?: boolean; counted?: boolean; afterFailedLaunch?: boolean } = {},
  ): Promise<void> {
    const idle = this.#state === 'stopped' || this.#state === 'failed' || this.#state === 'backoff';
    // A failed launch happens in `backoff` (or `stopped`, at start) and still needs its retry.
    if (idle && !(options.afterFailedLaunch && this.#state !== 'failed')) return;
    const at = this.#now();
    this.#restartCount++;
    this.#restartsByReason[reason]++;
    pushBounded(this.#recentRestarts, { at, reason, detail });
    this.#log.warn({ reason, detail }, 'restarting the pipeline');

    if (options.counted !== false) {
      const recent = this.#restartWindow.add(at);
      if (recent > this.#config.max_restarts) {
        await this.#serialise(() => this.#stopChild());
        this.#log.error(
          { restarts: recent, window: this.#config.restart_window },
          'too many restarts: giving up (failed state); POST /api/stream/start to try again',
        );
        this.#setState('failed');
        return;
      }
    }

    const delay = options.immediate ? 0 : this.#backoff.nextDelaySeconds();
    this.#backoffSeconds = delay;
    this.#setState('backoff');
    await this.#serialise(() => this.#stopChild());
    if ((this.#state as SupervisorState) !== 'backoff') return; // stopped while the old pipeline was being stopped
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#state === 'backoff') void this.#serialise(() => this.#launch());
    }, delay * 1000);
  }

  #cancelRestart(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
  }

  #setState(state: SupervisorState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#stateSince = this.#now();
    pushBounded(this.#stateHistory, { state, at: this.#stateSince });
    this.#log.info({ state }, 'state');
    this.#deps.onStateChange?.(state, this.snapshot());
  }
}

/**
 * What a pipeline run shows, decided from a monitor reading: the configured monitor (or the
 * primary, when it is the only one left and `single_monitor_fallback` allows it), else the
 * "no signal" slate with the reason. Pure: the supervisor reads the monitors and picks the encoder.
 */
import type { Config } from '../config/schema.ts';
import type { MonitorReading } from './monitor-watch.ts';
import { describeMonitors, geometryOf, selectMonitor } from './monitors.ts';
import type { CapturePlan, EncoderChoiceResult, Monitor } from './types.ts';

export type CaptureMode =
  | { kind: 'capture'; plan: CapturePlan }
  | { kind: 'slate'; plan: CapturePlan; why: string };

export type CaptureConfig = Pick<
  Config,
  | 'width'
  | 'height'
  | 'fps'
  | 'bitrate'
  | 'keyframe_interval'
  | 'segment_duration'
  | 'monitor'
  | 'single_monitor_fallback'
>;

export function planCapture(
  reading: MonitorReading,
  config: CaptureConfig,
  display: string,
  encoder: EncoderChoiceResult,
): CaptureMode {
  const base = {
    display,
    width: config.width,
    height: config.height,
    fps: config.fps,
    bitrateKbps: config.bitrate,
    keyframeIntervalSeconds: config.keyframe_interval,
    segmentDurationSeconds: config.segment_duration,
    encoder,
  };
  // The slate is drawn at the configured size.
  const placeholder: Monitor = {
    index: -1,
    name: 'none',
    outputs: [],
    primary: false,
    x: 0,
    y: 0,
    width: config.width,
    height: config.height,
  };
  const slate = (why: string): CaptureMode => ({
    kind: 'slate',
    why,
    plan: { ...base, monitor: placeholder, fallbackToPrimary: false },
  });
  if ('error' in reading) return slate(reading.error);
  const { monitors } = reading;
  const selection = selectMonitor(monitors, config.monitor, config.single_monitor_fallback);
  if (!selection) {
    return slate(`monitor ${JSON.stringify(config.monitor)} not found (${describeMonitors(monitors)})`);
  }
  return { kind: 'capture', plan: { ...base, ...selection } };
}

/** Whether a new plan shows the same thing as the running one: the slate, or the same monitor at the same place and size. */
export function sameCapture(next: CaptureMode, current: CaptureMode): boolean {
  if (next.kind !== current.kind) return false;
  if (next.kind === 'slate') return true;
  return (
    geometryOf(next.plan.monitor) === geometryOf(current.plan.monitor) &&
    next.plan.monitor.name === current.plan.monitor.name
  );
}

/** Why the pipeline restarts for a new plan, for the log and the restart history. */
export function describeCaptureChange(next: CaptureMode): string {
  return next.kind === 'slate'
    ? `capture lost: ${next.why}`
    : `capture available: ${next.plan.monitor.name} ${geometryOf(next.plan.monitor)}`;
}

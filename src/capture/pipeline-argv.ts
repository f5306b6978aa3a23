/**
 * gst-launch-1.0 argv for a capture plan (pure). Each element and property is its own argv
 * entry: no shell is involved, so paths need no quoting.
 *
 *   ximagesrc (the monitor's rectangle) → rate caps → leaky queue → videorate → convert+scale to the output
 *   size → watchdog (errors the pipeline when buffers stop) → H.264 encoder → h264parse →
 *   mpegtsmux → queue → fdsink on MEDIA_FD: the supervisor cuts parts and segments from that stream
 *   itself (src/media/), as the frames arrive.
 */
import { TAP_GRAY_HEIGHT, TAP_GRAY_WIDTH, TAP_JPEG_HEIGHT, TAP_JPEG_WIDTH } from '../picture/tap.ts';
import type { CapturePlan, EncoderElement } from './types.ts';

/** Stall detection inside the pipeline: the watchdog element errors out after this many ms without a buffer. */
export function watchdogTimeoutMs(segmentDurationSeconds: number): number {
  return Math.max(4000, 2 * segmentDurationSeconds * 1000);
}

export function keyframeIntervalFrames(plan: Pick<CapturePlan, 'fps' | 'keyframeIntervalSeconds'>): number {
  return Math.max(1, Math.round(plan.fps * plan.keyframeIntervalSeconds));
}

function encoderArgs(element: EncoderElement, plan: CapturePlan): string[] {
  const gop = keyframeIntervalFrames(plan);
  switch (element) {
    case 'vah264enc':
      return [
        'vah264enc',
        `bitrate=${plan.bitrateKbps}`,
        `key-int-max=${gop}`,
        'rate-control=cbr',
        'b-frames=0',
      ];
    case 'vaapih264enc':
      return ['vaapih264enc', `bitrate=${plan.bitrateKbps}`, `keyframe-period=${gop}`, 'rate-control=cbr'];
    case 'x264enc':
      return [
        'x264enc',
        'tune=zerolatency',
        'speed-preset=ultrafast',
        'threads=2',
        `bitrate=${plan.bitrateKbps}`,
        `key-int-max=${gop}`,
        // 1 s of VBV keeps the rate steady without starving static scenes.
        'vbv-buf-capacity=1000',
      ];
    case 'openh264enc':
      return ['openh264enc', `bitrate=${plan.bitrateKbps * 1000}`, `gop-size=${gop}`, 'rate-control=bitrate'];
  }
}

/** Raw video ready for the encoder: the output size, square pixels (letterboxed if needed), the right memory/format. */
function convertArgs(element: EncoderElement, plan: CapturePlan): string[] {
  const size = `width=${plan.width},height=${plan.height},pixel-aspect-ratio=1/1`;
  switch (element) {
    case 'vah264enc':
      // Scale and convert on the GPU.
      return ['vapostproc', '!', `video/x-raw(memory:VAMemory),format=NV12,${size}`];
    case 'vaapih264enc':
      return ['vaapipostproc', '!', `video/x-raw(memory:VASurface),format=NV12,${size}`];
    default:
      // Without an explicit I420, x264 picks High 4:4:4 Predictive, which browsers do not play.
      return ['videoconvertscale', '!', `video/x-raw,format=I420,${size}`];
  }
}

/** File descriptor of the child on which it writes the MPEG-TS stream. */
export const MEDIA_FD = 5;
/** 8 MiB: half a minute of the default 2 Mbit/s, far more than a paced read ever leaves. */
const MEDIA_QUEUE_BYTES = 8 * 1024 * 1024;

function tail(plan: CapturePlan): string[] {
  return [
    '!',
    'watchdog',
    `timeout=${watchdogTimeoutMs(plan.segmentDurationSeconds)}`,
    '!',
    ...encoderArgs(plan.encoder.element, plan),
    '!',
    'h264parse',
    // SPS/PPS before every keyframe: each segment and independent part decodes on its own.
    'config-interval=-1',
    '!',
    'video/x-h264,stream-format=byte-stream,alignment=au',
    '!',
    'mpegtsmux',
    '!',
    // Holds what the pipe cannot while the supervisor reads on a timer (src/pipeline/media-fifo.ts):
    // the encoder never waits for it. Only a reader gone for many seconds would make it block.
    'queue',
    'max-size-buffers=0',
    'max-size-time=0',
    `max-size-bytes=${MEDIA_QUEUE_BYTES}`,
    '!',
    // sync=false: write each frame the moment it is muxed (no clock wait: the stream is live already).
    'fdsink',
    `fd=${MEDIA_FD}`,
    'sync=false',
  ];
}

/** File descriptors of the picture tap in the child (see src/picture/tap.ts). */
export const TAP_GRAY_FD = 3;
export const TAP_JPEG_FD = 4;

/**
 * The picture tap: one frame per second of the raw capture, scaled down once, split into a tiny grey
 * thumbnail (frozen/black detection) and a small JPEG (snapshot). Leaky queues: a slow reader drops
 * tap frames, it never holds up the stream.
 */
function pictureTapArgs(): string[] {
  const leaky = ['queue', 'leaky=downstream', 'max-size-buffers=1', 'max-size-bytes=0', 'max-size-time=0'];
  return [
    'capture.',
    '!',
    ...leaky,
    '!',
    'videorate',
    'drop-only=true',
    'max-rate=1',
    '!',
    'videoconvertscale',
    '!',
    `video/x-raw,format=I420,width=${TAP_JPEG_WIDTH},height=${TAP_JPEG_HEIGHT},pixel-aspect-ratio=1/1`,
    '!',
    'tee',
    'name=tap',
    '!',
    ...leaky,
    '!',
    'jpegenc',
    'quality=75',
    '!',
    'fdsink',
    `fd=${TAP_JPEG_FD}`,
    'sync=false',
    'tap.',
    '!',
    ...leaky,
    '!',
    'videoconvertscale',
    '!',
    `video/x-raw,format=GRAY8,width=${TAP_GRAY_WIDTH},height=${TAP_GRAY_HEIGHT}`,
    '!',
    'fdsink',
    `fd=${TAP_GRAY_FD}`,
    'sync=false',
  ];
}

export interface CaptureOptions {
  /** Add the picture tap branch (the child must then have fds 3 and 4 open). */
  pictureTap?: boolean;
}

/** Capture the plan's monitor. */
export function buildCaptureArgs(plan: CapturePlan, options: CaptureOptions = {}): string[] {
  const { monitor } = plan;
  const tee = options.pictureTap ? ['tee', 'name=capture', '!'] : [];
  return [
    '-e',
    '-m',
    'ximagesrc',
    `display-name=${plan.display}`,
    `startx=${monitor.x}`,
    `starty=${monitor.y}`,
    `endx=${monitor.x + monitor.width - 1}`,
    `endy=${monitor.y + monitor.height - 1}`,
    // Damage tracking leaves stale regions with GPU-rendered apps (Unity).
    'use-damage=false',
    'show-pointer=false',
    '!',
    `video/x-raw,framerate=${plan.fps}/1`,
    '!',
    ...tee,
    'queue',
    'leaky=downstream',
    'max-size-buffers=2',
    'max-size-bytes=0',
    'max-size-time=0',
    '!',
    // Frames on an exact 1/fps grid (a late or dropped capture is filled with the previous
    // frame): parts are whole frames of equal length, and keyframes come every
    // keyframe_interval seconds, not every so many captured frames.
    'videorate',
    '!',
    `video/x-raw,framerate=${plan.fps}/1`,
    '!',
    ...convertArgs(plan.encoder.element, plan),
    ...tail(plan),
    ...(options.pictureTap ? pictureTapArgs() : []),
  ];
}

/**
 * A "no signal" slate with the same output format, streamed while the monitor or the X server is
 * gone so players keep a live playlist.
 */
export function buildSlateArgs(plan: CapturePlan, message: string): string[] {
  return [
    '-e',
    '-m',
    'videotestsrc',
    'is-live=true',
    'pattern=smpte',
    '!',
    `video/x-raw,framerate=${plan.fps}/1,width=${plan.width},height=${plan.height}`,
    '!',
    'textoverlay',
    `text=${message}`,
    'valignment=center',
    'halignment=center',
    'font-desc=Sans Bold 36',
    'shaded-background=true',
    '!',
    'clockoverlay',
    'valignment=bottom',
    'halignment=right',
    'time-format=%Y-%m-%d %H:%M:%S',
    'font-desc=Sans 18',
    '!',
    ...convertArgs(plan.encoder.element, plan),
    ...tail(plan),
  ];
}

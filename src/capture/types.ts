/** A monitor as listed by `xrandr --listmonitors`. */
export interface Monitor {
  /** Position in the listing (0-based). */
  index: number;
  /** Monitor name (usually the output name, e.g. "DUMMY1" or "HDMI-A-1"). */
  name: string;
  /** Output names that make up this monitor. */
  outputs: string[];
  primary: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
}

export type EncoderElement = 'vah264enc' | 'vaapih264enc' | 'x264enc' | 'openh264enc';

export interface EncoderChoiceResult {
  element: EncoderElement;
  /** Why this encoder was chosen (and why the ones before it were not), for logs and /api/health/detailed. */
  reason: string;
}

/** Everything the pipeline builder needs to know about what to capture and how to encode it. */
export interface CapturePlan {
  display: string;
  monitor: Monitor;
  /** True when the configured/second monitor was not there and the primary one is streamed instead. */
  fallbackToPrimary: boolean;
  encoder: EncoderChoiceResult;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  keyframeIntervalSeconds: number;
  segmentDurationSeconds: number;
}

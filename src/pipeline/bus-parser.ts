/**
 * Turns the text `gst-launch-1.0 -m` prints (stdout and stderr, line by line) into typed events.
 * Pure: the only place that knows gst-launch's output format.
 */
import type { GstState, PipelineErrorType } from './types.ts';

export type BusEvent =
  | { kind: 'state-changed'; element: string; from: GstState; to: GstState; isPipeline: boolean }
  | { kind: 'error'; type: PipelineErrorType; element: string | null; message: string }
  | { kind: 'warning'; element: string | null; message: string }
  | { kind: 'eos' };

// Got message #39 from element "pipeline0" (state-changed): GstMessageStateChanged, old-state=(GstState)null, new-state=(GstState)ready, ...
const GOT_MESSAGE =
  /^Got message #\d+ from (?:element|pad|object|bin|pipeline) "([^"]+)" \(([\w-]+)\): (.*)$/;
// ERROR: from element /GstPipeline:pipeline0/GstXImageSrc:ximagesrc0: Could not open X display for reading
const ELEMENT_REPORT = /^(ERROR|WARNING): from element (\S+): (.*)$/;
const STATE_FIELDS = /old-state=\(GstState\)([\w-]+), new-state=\(GstState\)([\w-]+)/;

const GST_STATES: Record<string, GstState> = {
  'void-pending': 'VOID_PENDING',
  null: 'NULL',
  ready: 'READY',
  paused: 'PAUSED',
  playing: 'PLAYING',
};

const ENCODER_ELEMENTS =
  /(x264enc|openh264enc|vah264enc|vaapih264enc|vapostproc|vaapipostproc|GstVa|GstVaapi)/i;
const DISPLAY_ELEMENTS = /(ximagesrc|GstXImageSrc)/i;
const SINK_ELEMENTS = /(fdsink|mpegtsmux|GstFdSink|GstMpegTsMux)/i;

/** Coarse error type for metrics labels; pure so it can be unit-tested with real messages. */
export function classifyError(element: string | null, message: string): PipelineErrorType {
  if (/X server|X display|XIO|xcontext/i.test(message) || (element && DISPLAY_ELEMENTS.test(element)))
    return 'display';
  if (element && ENCODER_ELEMENTS.test(element)) return 'encoder';
  if (/No space left|Permission denied|Could not (open|write|create)|resource/i.test(message))
    return 'resource';
  if (element && SINK_ELEMENTS.test(element)) return 'resource';
  if (/watchdog|not-negotiated|streaming stopped|Internal data stream error|negotiat/i.test(message))
    return 'stream';
  return 'other';
}

export function parseBusLine(rawLine: string): BusEvent | null {
  const line = rawLine.trimEnd();

  const got = GOT_MESSAGE.exec(line);
  if (got) {
    const [, element, type, details] = got as unknown as [string, string, string, string];
    if (type === 'state-changed') {
      const states = STATE_FIELDS.exec(details);
      if (!states) return null;
      const from = GST_STATES[states[1]!];
      const to = GST_STATES[states[2]!];
      if (!from || !to) return null;
      return { kind: 'state-changed', element, from, to, isPipeline: /^pipeline\d+$/.test(element) };
    }
    if (type === 'eos' && /^pipeline\d+$/.test(element)) return { kind: 'eos' };
    return null;
  }

  const report = ELEMENT_REPORT.exec(line);
  if (report) {
    const [, level, path, message] = report as unknown as [string, string, string, string];
    const element = path.split('/').pop()?.split(':').pop() ?? path;
    if (level === 'WARNING') return { kind: 'warning', element, message };
    return { kind: 'error', type: classifyError(path, message), element, message };
  }

  // Xlib exits the process on a lost X connection: "XIO:  fatal IO error 11 (...) on X server ":99""
  if (/^XIO:\s+fatal IO error/.test(line) || /^X Error of failed request/.test(line)) {
    return { kind: 'error', type: 'display', element: null, message: line.trim() };
  }
  if (/^ERROR: pipeline doesn't want to (preroll|pause|play)/.test(line)) return null;
  if (/^ERROR: /.test(line)) {
    const message = line.slice('ERROR: '.length);
    return { kind: 'error', type: classifyError(null, message), element: null, message };
  }
  return null;
}

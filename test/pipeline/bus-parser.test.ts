import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyError, parseBusLine } from '../../src/pipeline/bus-parser.ts';

// Lines as gst-launch-1.0 1.22 prints them (captured on the rig).
describe('parseBusLine', () => {
  it('pipeline state changes', () => {
    assert.deepEqual(
      parseBusLine(
        'Got message #39 from element "pipeline0" (state-changed): GstMessageStateChanged, old-state=(GstState)paused, new-state=(GstState)playing, pending-state=(GstState)void-pending;',
      ),
      { kind: 'state-changed', element: 'pipeline0', from: 'PAUSED', to: 'PLAYING', isPipeline: true },
    );
    const element = parseBusLine(
      'Got message #29 from element "mpegtsmux0" (state-changed): GstMessageStateChanged, old-state=(GstState)null, new-state=(GstState)ready, pending-state=(GstState)void-pending;',
    );
    assert.equal(element?.kind === 'state-changed' && element.isPipeline, false);
  });

  it('element messages are not events (the stream itself tells the supervisor about media)', () => {
    assert.equal(
      parseBusLine(
        'Got message #100 from element "splitmuxsink0" (element): splitmuxsink-fragment-opened, location=(string)NULL, running-time=(guint64)7616939, sink=(GstElement)"\\(GstGioStreamSink\\)\\ giostreamsink0";',
      ),
      null,
    );
  });

  it('EOS of the pipeline', () => {
    assert.deepEqual(parseBusLine('Got message #79 from element "pipeline0" (eos): no message details'), {
      kind: 'eos',
    });
  });

  it('errors and warnings from elements, classified', () => {
    assert.deepEqual(
      parseBusLine(
        'ERROR: from element /GstPipeline:pipeline0/GstXImageSrc:ximagesrc0: Could not open X display for reading',
      ),
      {
        kind: 'error',
        type: 'display',
        element: 'ximagesrc0',
        message: 'Could not open X display for reading',
      },
    );
    assert.deepEqual(
      parseBusLine('WARNING: from element /GstPipeline:pipeline0/GstX264Enc:x264enc0: Something odd: really'),
      { kind: 'warning', element: 'x264enc0', message: 'Something odd: really' },
    );
    const watchdog = parseBusLine(
      'ERROR: from element /GstPipeline:pipeline0/GstWatchdog:watchdog0: Watchdog triggered',
    );
    assert.equal(watchdog?.kind === 'error' && watchdog.type, 'stream');
  });

  it('a lost X connection', () => {
    const event = parseBusLine(
      'XIO:  fatal IO error 11 (Resource temporarily unavailable) on X server ":99"',
    );
    assert.equal(event?.kind === 'error' && event.type, 'display');
  });

  it('ignores chatter', () => {
    for (const line of [
      'Setting pipeline to PAUSED ...',
      'Redistribute latency...',
      "ERROR: pipeline doesn't want to preroll.",
      'Got message #73 from element "x264enc0" (latency): no message details',
      'Additional debug info:',
      '',
    ]) {
      assert.equal(parseBusLine(line), null, line);
    }
  });
});

describe('classifyError', () => {
  it('by element and message', () => {
    assert.equal(
      classifyError('/GstPipeline:pipeline0/GstVaH264Enc:vah264enc0', 'Failed to encode'),
      'encoder',
    );
    assert.equal(
      classifyError(
        '/GstPipeline:pipeline0/GstFdSink:fdsink0',
        'Error while writing to file descriptor "5".',
      ),
      'resource',
    );
    assert.equal(classifyError(null, 'Could not write to resource: No space left on device'), 'resource');
    assert.equal(classifyError(null, 'Internal data stream error.'), 'stream');
    assert.equal(classifyError(null, 'who knows'), 'other');
  });
});

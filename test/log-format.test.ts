import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLogRecord } from '../src/log-format.ts';

const at = new Date(2026, 11, 2, 14, 3, 7, 512).getTime();

test('time, level, module and message first, then the other fields as key=value', () => {
  const record = {
    level: 40,
    time: at,
    service: 'desktop-streamer',
    kiosk: 'lobby',
    module: 'pipeline',
    reason: 'stall',
    attempt: 2,
    argv: ['gst-launch-1.0', '-e'],
    note: 'two words',
    msg: 'restarting pipeline',
  };
  assert.equal(
    formatLogRecord(record, { color: false }),
    '14:03:07.512 WARN  pipeline: restarting pipeline kiosk=lobby reason=stall attempt=2 argv=["gst-launch-1.0","-e"] note="two words"',
  );
});

test('an error shows its message only; colour only when asked; no module, no prefix', () => {
  const record = {
    level: 50,
    time: at,
    msg: 'failed',
    err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' },
  };
  assert.equal(formatLogRecord(record, { color: false }), '14:03:07.512 ERROR failed err="boom"');
  assert.equal(
    formatLogRecord(record, { color: true }),
    '14:03:07.512 \x1b[31mERROR\x1b[0m failed err="boom"',
  );
  assert.equal(formatLogRecord({ level: 35, msg: 'odd' }, { color: true }), '--:--:--.--- 35    odd');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MixinConfigError, runbookBaseUrl, staleFiles, withRunbookBase } from '../../alerting/build.ts';

test('withRunbookBase: only runbook_url lines change, the anchor stays, relative or absolute before', () => {
  const rules = [
    '      - alert: DesktopStreamerXAuthRefused',
    '        annotations:',
    '          summary: a runbook_url: mention in prose is left alone',
    '          runbook_url: alerting/runbooks.md#desktopstreamerxauthrefused',
    '          runbook_url: https://old.example/runbooks.md#desktopstreamerdown',
  ].join('\n');
  assert.equal(
    withRunbookBase(rules, 'https://wiki.example/r.md'),
    [
      '      - alert: DesktopStreamerXAuthRefused',
      '        annotations:',
      '          summary: a runbook_url: mention in prose is left alone',
      '          runbook_url: https://wiki.example/r.md#desktopstreamerxauthrefused',
      '          runbook_url: https://wiki.example/r.md#desktopstreamerdown',
    ].join('\n'),
  );
});

test('runbookBaseUrl: an http(s) URL without "#"; anything else named with what is allowed', () => {
  assert.equal(runbookBaseUrl('runbook_base_url: https://w.example/r.md\n'), 'https://w.example/r.md');
  for (const [yaml, shown] of [
    ['runbook_base_url: alerting/runbooks.md', '"alerting/runbooks.md"'],
    ['runbook_base_url: ftp://x/r.md', '"ftp://x/r.md"'],
    ['runbook_base_url: https://x/r.md#top', '"https://x/r.md#top"'],
    ['other: 1', 'undefined'],
  ] as const) {
    assert.throws(
      () => runbookBaseUrl(yaml),
      (error: unknown) =>
        error instanceof MixinConfigError &&
        error.message.includes(`runbook_base_url ${shown.startsWith('"') ? shown : `is ${shown}`}`) &&
        error.message.includes('allowed: an http:// or https:// URL without "#"'),
      yaml,
    );
  }
});

test('the committed rules and promtool tests match alerting/mixin.yml (npm run alerting:build)', async () => {
  assert.deepEqual(await staleFiles(), []);
});

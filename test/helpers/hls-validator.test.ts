import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatFindings,
  ourPartUri,
  parseAttributes,
  parseSnapshot,
  type RuleId,
  summarizeFindings,
  validateSnapshots,
} from './hls-validator.ts';

/**
 * A tiny live LL-HLS server model: 0.5 s parts, 4 per 2 s segment, a window of 4 segments, parts
 * listed for the last 3 segments, a run may end early (short last segment, then a discontinuity).
 * `snapshots()` gives the playlist after every published part, like a player reloading it.
 */
interface Part {
  uri: string;
  duration: number;
  independent: boolean;
}
interface Segment {
  msn: number;
  duration: number;
  discontinuity: boolean;
  pdt: number;
  parts: Part[];
}
const T0 = Date.parse('2026-12-02T03:00:00.000Z');

class Model {
  segments: Segment[] = [];
  open: Segment | null = null;
  nextMsn = 0;
  dsn = 0;
  pendingDiscontinuity = false;
  producing = true;
  clock = T0;
  readonly texts: string[] = [];

  part(duration = 0.5): void {
    if (!this.open) {
      this.open = {
        msn: this.nextMsn,
        duration: 0,
        discontinuity: this.pendingDiscontinuity,
        pdt: this.clock,
        parts: [],
      };
      this.pendingDiscontinuity = false;
    }
    this.open.parts.push({
      uri: ourPartUri(this.open.msn, this.open.parts.length),
      duration,
      independent: this.open.parts.length === 0,
    });
    this.clock += duration * 1000;
    if (this.open.parts.length === 4) this.close();
    this.snap();
  }

  close(): void {
    const open = this.open!;
    open.duration = open.parts.reduce((sum, p) => sum + p.duration, 0);
    this.segments.push(open);
    this.open = null;
    this.nextMsn++;
    while (this.segments.length > 4) {
      const gone = this.segments.shift()!;
      if (gone.discontinuity) this.dsn++;
    }
  }

  /** The run ends (a kill): the open segment is published short; the next part is a discontinuity. */
  endRun(): void {
    if (this.open) this.close();
    this.producing = false;
    this.snap();
    this.clock += 1500;
    this.pendingDiscontinuity = true;
    this.producing = true;
  }

  snap(): void {
    this.texts.push(this.render());
  }

  render(): string {
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500',
      '#EXT-X-PART-INF:PART-TARGET=0.500',
      `#EXT-X-MEDIA-SEQUENCE:${this.segments[0]?.msn ?? this.nextMsn}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${this.dsn}`,
    ];
    const partLines = (parts: Part[]) =>
      parts.map(
        (p) =>
          `#EXT-X-PART:DURATION=${p.duration.toFixed(3)},URI="${p.uri}"${p.independent ? ',INDEPENDENT=YES' : ''}`,
      );
    this.segments.forEach((s, i) => {
      if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.pdt).toISOString()}`);
      if (i >= this.segments.length - 3) lines.push(...partLines(s.parts));
      lines.push(`#EXTINF:${s.duration.toFixed(3)},`, `seg-${String(s.msn).padStart(9, '0')}.ts`);
    });
    if (this.open) {
      if (this.open.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(this.open.pdt).toISOString()}`);
      lines.push(...partLines(this.open.parts));
    }
    if (this.producing) {
      const hint = this.open
        ? ourPartUri(this.open.msn, this.open.parts.length)
        : ourPartUri(this.nextMsn, 0);
      lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}"`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** 40 parts with a run ending after part 14 (segment 3 published with 2 parts). */
function goodStream(): string[] {
  const model = new Model();
  for (let i = 0; i < 40; i++) {
    model.part();
    if (i === 13) model.endRun();
  }
  return model.texts;
}

function rules(texts: string[]): RuleId[] {
  return [...new Set(validateSnapshots(texts).violations.map((v) => v.rule))];
}

/** The good stream with snapshot `index` rewritten. */
function withSnapshot(index: number, edit: (text: string) => string): string[] {
  const texts = goodStream();
  texts[index] = edit(texts[index]!);
  assert.notEqual(texts[index], goodStream()[index], 'the edit changed the snapshot');
  return texts;
}

function assertOnly(texts: string[], rule: RuleId, snapshot?: number): void {
  const report = validateSnapshots(texts);
  assert.ok(
    report.violations.some((v) => v.rule === rule && (snapshot === undefined || v.snapshot === snapshot)),
    `expected a ${rule} violation${snapshot === undefined ? '' : ` at snapshot ${snapshot}`}; got:\n${formatFindings(report.violations)}`,
  );
}

// Snapshot indexes of the good stream: 0..13 parts 0..13, 14 = run ended, 15.. the new run.
const LAST = goodStream().length - 1;

describe('hls-validator: parsing', () => {
  it('reads attribute lists with quoted commas', () => {
    assert.deepEqual(parseAttributes('DURATION=0.200,URI="a,b.ts",INDEPENDENT=YES'), {
      DURATION: '0.200',
      URI: 'a,b.ts',
      INDEPENDENT: 'YES',
    });
  });

  it('splits complete segments, their parts, the open segment and the hint', () => {
    const snap = parseSnapshot(goodStream()[20]!);
    assert.equal(snap.targetDuration, 2);
    assert.equal(snap.partTarget, 0.5);
    assert.equal(snap.partHoldBack, 1.5);
    assert.equal(snap.canBlockReload, true);
    assert.ok(snap.segments.length >= 3);
    assert.equal(snap.segments.at(-1)!.msn, snap.mediaSequence + snap.segments.length - 1);
    assert.ok(snap.open, 'an open segment');
    assert.equal(snap.preloadHint?.uri, ourPartUri(snap.open.msn, snap.open.parts.length));
    assert.deepEqual(snap.malformed, []);
  });
});

describe('hls-validator: a good live stream', () => {
  it('has no violation and no warning, through a run that ended early and a discontinuity sliding out', () => {
    const texts = goodStream();
    // The stream really exercises what it should.
    assert.ok(texts.some((t) => t.includes('#EXT-X-DISCONTINUITY\n')));
    assert.ok(
      texts.some((t) => /DISCONTINUITY-SEQUENCE:1/.test(t)),
      'the discontinuity slid out',
    );
    assert.ok(
      texts.some((t) => !t.includes('PRELOAD-HINT')),
      'a snapshot between runs has no hint',
    );
    const report = validateSnapshots(texts);
    assert.deepEqual(report.violations, [], formatFindings(report.violations));
    assert.deepEqual(report.warnings, [], formatFindings(report.warnings));
  });

  it('accepts a playlist without any Low-Latency tag (plain HLS)', () => {
    const plain = goodStream().map((t) =>
      t
        .split('\n')
        .filter((l) => !/^#EXT-X-(PART|PRELOAD-HINT|SERVER-CONTROL|PART-INF)/.test(l))
        .join('\n'),
    );
    assert.deepEqual(validateSnapshots(plain).violations, []);
  });

  it('accepts snapshots seen far apart (many segments slid out unseen)', () => {
    const texts = goodStream();
    assert.deepEqual(validateSnapshots([texts[2]!, texts[LAST]!]).violations, []);
  });
});

describe('hls-validator: every rule can fail', () => {
  it('extm3u-first', () => {
    assertOnly(
      withSnapshot(5, (t) => t.replace('#EXTM3U\n', '#EXT-X-VERSION:6\n#EXTM3U\n')),
      'extm3u-first',
      5,
    );
  });

  it('targetduration-present', () => {
    assertOnly(
      withSnapshot(5, (t) => t.replace('#EXT-X-TARGETDURATION:2\n', '')),
      'targetduration-present',
      5,
    );
  });

  it('targetduration-decreased is a violation, an increase only a warning', () => {
    const texts = goodStream().map((t, i) =>
      i >= 20 ? t.replace('TARGETDURATION:2', 'TARGETDURATION:3') : t,
    );
    const report = validateSnapshots(texts);
    assert.deepEqual(report.violations, [], formatFindings(report.violations));
    assert.deepEqual(
      report.warnings.map((w) => [w.snapshot, w.rule]),
      [[20, 'targetduration-increased']],
    );
    const down = goodStream().map((t, i) =>
      i >= 20 ? t.replace('TARGETDURATION:2', 'TARGETDURATION:1') : t,
    );
    assertOnly(down, 'targetduration-decreased', 20);
  });

  it('extinf-within-target (EXTINF 2.5 rounds to 3 > 2)', () => {
    const texts = goodStream();
    const text = texts[LAST]!;
    const uri = parseSnapshot(text).segments[0]!.uri;
    texts[LAST] = text.replace(`#EXTINF:2.000,\n${uri}`, `#EXTINF:2.500,\n${uri}`);
    assertOnly(texts, 'extinf-within-target', LAST);
    // 2.499 rounds to 2: fine on its own (the same edit also changes a seen segment).
    const ok = goodStream();
    ok[LAST] = text.replace(`#EXTINF:2.000,\n${uri}`, `#EXTINF:2.499,\n${uri}`);
    assert.ok(!rules(ok).includes('extinf-within-target'));
  });

  it('media-sequence-decreased', () => {
    const texts = goodStream();
    assertOnly([...texts, texts[30]!], 'media-sequence-decreased', texts.length);
  });

  it('segment-changed: the same msn with another URI, duration or PDT', () => {
    const texts = goodStream();
    const snap = parseSnapshot(texts[30]!);
    const seg = snap.segments[1]!;
    const otherUri = withSnapshot(30, (t) => t.replace(`\n${seg.uri}\n`, '\nseg-999999999.ts\n'));
    assertOnly(otherUri, 'segment-changed', 30);
    const otherPdt = withSnapshot(30, (t) =>
      t.replace(
        new Date(seg.programDateTime!).toISOString(),
        new Date(seg.programDateTime! + 40).toISOString(),
      ),
    );
    assertOnly(otherPdt, 'segment-changed', 30);
  });

  it('live-edge-regressed: a listed part disappears at the live edge', () => {
    const texts = goodStream();
    assertOnly([...texts.slice(0, 22), texts[20]!], 'live-edge-regressed', 22);
  });

  it('discontinuity-sequence: not raised when a discontinuity slides out, or raised for nothing', () => {
    const texts = goodStream();
    const firstWith1 = texts.findIndex((t) => t.includes('DISCONTINUITY-SEQUENCE:1'));
    assertOnly(
      texts.map((t, i) =>
        i === firstWith1 ? t.replace('DISCONTINUITY-SEQUENCE:1', 'DISCONTINUITY-SEQUENCE:0') : t,
      ),
      'discontinuity-sequence',
      firstWith1,
    );
    assertOnly(
      withSnapshot(6, (t) => t.replace('DISCONTINUITY-SEQUENCE:0', 'DISCONTINUITY-SEQUENCE:1')),
      'discontinuity-sequence',
      6,
    );
  });

  it('part-inf-missing', () => {
    assertOnly(
      withSnapshot(9, (t) => t.replace(/#EXT-X-PART-INF:.*\n/, '')),
      'part-inf-missing',
      9,
    );
  });

  it('part-duration-above-target', () => {
    assertOnly(
      withSnapshot(9, (t) => t.replace('PART-TARGET=0.500', 'PART-TARGET=0.450')),
      'part-duration-above-target',
      9,
    );
  });

  it('part-duration-below-85pct, but not for an INDEPENDENT part or the last part of a segment', () => {
    // PART-TARGET 0.6: parts of 0.5 are 83% of it.
    const low = withSnapshot(9, (t) => t.replace('PART-TARGET=0.500', 'PART-TARGET=0.600'));
    assertOnly(low, 'part-duration-below-85pct', 9);
    const findings = validateSnapshots(low).violations.filter((v) => v.rule === 'part-duration-below-85pct');
    const uris = findings.map((f) => /^(\S+)/.exec(f.message)![1]!);
    assert.ok(
      uris.every((u) => !u.endsWith('.p0.ts')),
      `INDEPENDENT parts exempt: ${uris}`,
    );
    assert.ok(
      uris.every((u) => !u.endsWith('.p3.ts')),
      `final parts exempt: ${uris}`,
    );
    // The short final segment of the ended run (2 × 0.5 s) was never flagged in the good stream.
    assert.ok(!rules(goodStream()).includes('part-duration-below-85pct'));
  });

  it('part-hold-back: missing, or below 2 × PART-TARGET', () => {
    assertOnly(
      withSnapshot(9, (t) => t.replace('PART-HOLD-BACK=1.500', 'PART-HOLD-BACK=0.999')),
      'part-hold-back',
      9,
    );
    assertOnly(
      withSnapshot(9, (t) => t.replace(',PART-HOLD-BACK=1.500', '')),
      'part-hold-back',
      9,
    );
    // Exactly 2 × is allowed.
    const two = goodStream().map((t) => t.replace('PART-HOLD-BACK=1.500', 'PART-HOLD-BACK=1.000'));
    assert.deepEqual(rules(two), []);
  });

  it('first-part-independent', () => {
    const texts = goodStream();
    const text = texts[LAST]!;
    const first = parseSnapshot(text).segments.at(-1)!.parts[0]!.uri;
    texts[LAST] = text.replace(`URI="${first}",INDEPENDENT=YES`, `URI="${first}"`);
    assertOnly(texts, 'first-part-independent', LAST);
  });

  it('parts-sum: parts of a complete segment do not add up to its EXTINF (±1 ms per part)', () => {
    const texts = goodStream();
    const text = texts[LAST]!;
    const seg = parseSnapshot(text).segments.at(-1)!;
    const lastPart = seg.parts.at(-1)!.uri;
    // 3 ms over 4 parts: within tolerance; 5 ms: not.
    const within = text.replace(`DURATION=0.500,URI="${lastPart}"`, `DURATION=0.503,URI="${lastPart}"`);
    const over = text.replace(`DURATION=0.500,URI="${lastPart}"`, `DURATION=0.505,URI="${lastPart}"`);
    assert.ok(!rules([...texts.slice(0, LAST), within]).includes('parts-sum'));
    assertOnly([...texts.slice(0, LAST), over], 'parts-sum', LAST);
  });

  it('part-changed: a part keeps its URI, duration and independence', () => {
    const texts = goodStream();
    const text = texts[LAST]!;
    const part = parseSnapshot(text).segments.at(-1)!.parts[1]!.uri;
    texts[LAST] = text.replace(`URI="${part}"`, `URI="${part}",INDEPENDENT=YES`);
    assertOnly(texts, 'part-changed', LAST);
  });

  it('parts-window: parts listed more than three target durations from the end is a warning', () => {
    const texts = goodStream();
    const text = texts[LAST]!;
    const oldest = parseSnapshot(text).segments[0]!;
    const parts = [0, 1, 2, 3]
      .map(
        (i) =>
          `#EXT-X-PART:DURATION=0.500,URI="${ourPartUri(oldest.msn, i)}"${i === 0 ? ',INDEPENDENT=YES' : ''}`,
      )
      .join('\n');
    texts[LAST] = text.replace(`#EXTINF:2.000,\n${oldest.uri}`, `${parts}\n#EXTINF:2.000,\n${oldest.uri}`);
    const report = validateSnapshots(texts);
    assert.deepEqual(report.violations, [], formatFindings(report.violations));
    assert.deepEqual(
      report.warnings.map((w) => [w.snapshot, w.rule]),
      [[LAST, 'parts-window']],
    );
  });

  it('preload-hint-last: a part listed after the hint', () => {
    assertOnly(
      withSnapshot(9, (t) => {
        const lines = t.trimEnd().split('\n');
        const hint = lines.pop()!;
        const part = lines.pop()!;
        return `${[...lines, hint, part].join('\n')}\n`;
      }),
      'preload-hint-last',
      9,
    );
  });

  it('preload-hint-next: the hint is not the next part, or is already listed', () => {
    assertOnly(
      withSnapshot(9, (t) =>
        t.replace(/PRELOAD-HINT:TYPE=PART,URI="[^"]*"/, 'PRELOAD-HINT:TYPE=PART,URI="seg-000000002.p3.ts"'),
      ),
      'preload-hint-next',
      9,
    );
    assertOnly(
      withSnapshot(9, (t) =>
        t.replace(/PRELOAD-HINT:TYPE=PART,URI="[^"]*"/, 'PRELOAD-HINT:TYPE=PART,URI="seg-000000002.p0.ts"'),
      ),
      'preload-hint-next',
      9,
    );
  });

  it('preload-hint-broken: what comes next is not what was hinted (without a discontinuity)', () => {
    const texts = goodStream();
    const snap = parseSnapshot(texts[21]!);
    const hinted = snap.preloadHint!.uri;
    // The hinted part comes under another name in the next snapshot (and the hint names it too).
    texts[22] = texts[22]!.replaceAll(hinted, 'other.p9.ts');
    const report = validateSnapshots(texts, { partUri: null });
    assert.ok(
      report.violations.some((v) => v.rule === 'preload-hint-broken' && v.snapshot === 22),
      formatFindings(report.violations),
    );
    // After a run ends, the hinted part never comes and a discontinuity opens the next run: fine.
    assert.ok(!rules(goodStream()).includes('preload-hint-broken'));
  });

  it('endlist', () => {
    assertOnly(
      withSnapshot(LAST, (t) => `${t}#EXT-X-ENDLIST\n`),
      'endlist',
      LAST,
    );
  });

  it('pdt-backwards within a discontinuity-free stretch (but not across a discontinuity)', () => {
    const texts = goodStream();
    const text = texts[LAST]!;
    const segs = parseSnapshot(text).segments;
    const a = segs.at(-2)!;
    const b = segs.at(-1)!;
    texts[LAST] = text.replace(
      new Date(b.programDateTime!).toISOString(),
      new Date(a.programDateTime! - 1000).toISOString(),
    );
    assertOnly(texts, 'pdt-backwards', LAST);
    // Across a discontinuity the clock may go back (a new run).
    const across = goodStream();
    const i = across.findIndex((t) => {
      const listed = parseSnapshot(t).segments;
      return listed.findIndex((s) => s.discontinuity) > 0;
    });
    assert.ok(i > 0, 'a snapshot lists a discontinuity after another segment');
    const disc = parseSnapshot(across[i]!).segments.find((s) => s.discontinuity)!;
    const moved = across[i]!.replace(
      new Date(disc.programDateTime!).toISOString(),
      new Date(T0 - 3_600_000).toISOString(),
    );
    assert.ok(!validateSnapshots([moved]).violations.some((v) => v.rule === 'pdt-backwards'));
    // …and the same edit without the discontinuity tag is flagged.
    assertOnly([moved.replace('#EXT-X-DISCONTINUITY\n', '')], 'pdt-backwards', 0);
  });

  it('summarizes findings per rule', () => {
    const texts = goodStream().map((t) => t.replace('PART-TARGET=0.500', 'PART-TARGET=0.450'));
    const summary = summarizeFindings(validateSnapshots(texts).violations);
    assert.match(summary, /^\[part-duration-above-target\] \d+ findings in \d+ snapshots; first: #0 /);
    assert.equal(summary.split('\n').length, 1);
  });

  it('malformed lines are reported', () => {
    assertOnly(
      withSnapshot(9, (t) => t.replace('#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-MEDIA-SEQUENCE:x')),
      'malformed',
      9,
    );
  });
});

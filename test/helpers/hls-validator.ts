/**
 * A checker of a live Media Playlist as a player reloading it sees it: a sequence of snapshots
 * (oldest first), each checked on its own and against the ones before it, under RFC 8216 and
 * RFC 8216bis (Low-Latency HLS). Pure: text in, findings out.
 *
 * Findings are `violations` (a MUST of the RFCs, or a rule of our design the brief fixes, e.g.
 * the first part of every segment is INDEPENDENT=YES) and `warnings` (a SHOULD, or something
 * our playlist does on purpose that the RFC frowns on: src/hls/playlist.ts may RAISE
 * EXT-X-TARGETDURATION once when a segment is longer than planned).
 *
 * Each finding names the snapshot index and the rule, so a failing e2e test can print the
 * snapshot text that broke it.
 */

export type RuleId =
  | 'extm3u-first'
  | 'targetduration-present'
  | 'targetduration-decreased'
  | 'targetduration-increased'
  | 'extinf-within-target'
  | 'media-sequence-decreased'
  | 'segment-changed'
  | 'live-edge-regressed'
  | 'discontinuity-sequence'
  | 'part-inf-missing'
  | 'part-duration-above-target'
  | 'part-duration-below-85pct'
  | 'part-hold-back'
  | 'first-part-independent'
  | 'parts-sum'
  | 'part-changed'
  | 'parts-window'
  | 'preload-hint-last'
  | 'preload-hint-next'
  | 'preload-hint-broken'
  | 'endlist'
  | 'pdt-backwards'
  | 'malformed';

export interface Finding {
  /** Index of the snapshot the finding is about (0-based). */
  snapshot: number;
  rule: RuleId;
  message: string;
}

export interface ValidationReport {
  violations: Finding[];
  warnings: Finding[];
}

export interface ParsedPart {
  uri: string;
  duration: number;
  independent: boolean;
}

export interface ParsedSegment {
  msn: number;
  uri: string;
  duration: number;
  discontinuity: boolean;
  /** epoch ms of EXT-X-PROGRAM-DATE-TIME, null when absent. */
  programDateTime: number | null;
  /** EXT-X-PART tags listed for it (empty when its parts are not listed). */
  parts: ParsedPart[];
}

/** The segment being assembled at the live edge: parts listed, no EXTINF/URI yet. */
export interface OpenSegmentParts {
  msn: number;
  discontinuity: boolean;
  programDateTime: number | null;
  parts: ParsedPart[];
}

export interface ParsedSnapshot {
  startsWithExtm3u: boolean;
  targetDuration: number | null;
  mediaSequence: number;
  discontinuitySequence: number;
  partTarget: number | null;
  partHoldBack: number | null;
  canBlockReload: boolean;
  endList: boolean;
  segments: ParsedSegment[];
  open: OpenSegmentParts | null;
  preloadHint: { type: string; uri: string } | null;
  /** Segment URI or EXT-X-PART lines that came after EXT-X-PRELOAD-HINT. */
  linesAfterHint: string[];
  /** Lines that could not be understood (bad attribute values, a URI without EXTINF, …). */
  malformed: string[];
}

/** `KEY=VALUE,KEY="quoted, value"` attribute lists (RFC 8216 §4.2). */
export function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const pattern = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/g;
  for (const match of list.matchAll(pattern)) {
    const [, key = '', raw = ''] = match;
    out[key] = raw.startsWith('"') ? raw.slice(1, -1) : raw;
  }
  return out;
}

function tagValue(line: string): string {
  const colon = line.indexOf(':');
  return colon < 0 ? '' : line.slice(colon + 1);
}

/** Parses one Media Playlist text; never throws (what it cannot read lands in `malformed`). */
export function parseSnapshot(text: string): ParsedSnapshot {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const snapshot: ParsedSnapshot = {
    startsWithExtm3u: lines[0] === '#EXTM3U',
    targetDuration: null,
    mediaSequence: 0,
    discontinuitySequence: 0,
    partTarget: null,
    partHoldBack: null,
    canBlockReload: false,
    endList: false,
    segments: [],
    open: null,
    preloadHint: null,
    linesAfterHint: [],
    malformed: [],
  };
  let pending = {
    discontinuity: false,
    programDateTime: null as number | null,
    duration: null as number | null,
    parts: [] as ParsedPart[],
  };
  const number = (value: string, line: string): number => {
    const parsed = Number(value);
    if (value === '' || !Number.isFinite(parsed)) {
      snapshot.malformed.push(line);
      return Number.NaN;
    }
    return parsed;
  };
  for (const line of lines) {
    if (line === '' || line === '#EXTM3U') continue;
    if (
      snapshot.preloadHint &&
      !line.startsWith('#EXT-X-PRELOAD-HINT') &&
      !line.startsWith('#EXT-X-RENDITION-REPORT')
    ) {
      if (!line.startsWith('#') || line.startsWith('#EXT-X-PART:') || line.startsWith('#EXTINF')) {
        snapshot.linesAfterHint.push(line);
      }
    }
    if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      snapshot.targetDuration = number(tagValue(line), line);
    } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      snapshot.mediaSequence = number(tagValue(line), line);
    } else if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) {
      snapshot.discontinuitySequence = number(tagValue(line), line);
    } else if (line === '#EXT-X-DISCONTINUITY') {
      pending.discontinuity = true;
    } else if (line === '#EXT-X-ENDLIST') {
      snapshot.endList = true;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      const time = Date.parse(tagValue(line));
      if (Number.isNaN(time)) snapshot.malformed.push(line);
      pending.programDateTime = Number.isNaN(time) ? null : time;
    } else if (line.startsWith('#EXT-X-PART-INF:')) {
      snapshot.partTarget = number(parseAttributes(tagValue(line))['PART-TARGET'] ?? '', line);
    } else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) {
      const attributes = parseAttributes(tagValue(line));
      snapshot.canBlockReload = attributes['CAN-BLOCK-RELOAD'] === 'YES';
      if (attributes['PART-HOLD-BACK'] !== undefined) {
        snapshot.partHoldBack = number(attributes['PART-HOLD-BACK'], line);
      }
    } else if (line.startsWith('#EXT-X-PART:')) {
      const attributes = parseAttributes(tagValue(line));
      const uri = attributes.URI;
      const duration = number(attributes.DURATION ?? '', line);
      if (!uri) snapshot.malformed.push(line);
      pending.parts.push({ uri: uri ?? '', duration, independent: attributes.INDEPENDENT === 'YES' });
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      const attributes = parseAttributes(tagValue(line));
      if (!attributes.URI || !attributes.TYPE) snapshot.malformed.push(line);
      else if (attributes.TYPE === 'PART')
        snapshot.preloadHint = { type: attributes.TYPE, uri: attributes.URI };
    } else if (line.startsWith('#EXTINF:')) {
      pending.duration = number(tagValue(line).split(',')[0] ?? '', line);
    } else if (!line.startsWith('#')) {
      if (pending.duration === null) snapshot.malformed.push(line);
      snapshot.segments.push({
        msn: snapshot.mediaSequence + snapshot.segments.length,
        uri: line,
        duration: pending.duration ?? Number.NaN,
        discontinuity: pending.discontinuity,
        programDateTime: pending.programDateTime,
        parts: pending.parts,
      });
      pending = { discontinuity: false, programDateTime: null, duration: null, parts: [] };
    }
  }
  if (pending.parts.length > 0) {
    snapshot.open = {
      msn: snapshot.mediaSequence + snapshot.segments.length,
      discontinuity: pending.discontinuity,
      programDateTime: pending.programDateTime,
      parts: pending.parts,
    };
  }
  return snapshot;
}

export interface ValidatorOptions {
  /**
   * The URI of part `index` of segment `msn`, when the server's names are known; with it the
   * hint of each snapshot is checked to be exactly the next part. Default: our names
   * (`seg-<9 digits>.p<n>.ts`, src/hls/playlist.ts). null: only the cross-snapshot check.
   */
  partUri?: ((msn: number, index: number) => string) | null;
  /** Parts of a complete segment must sum to its EXTINF within this much per part (s). */
  partsSumToleranceSeconds?: number;
}

export function ourPartUri(msn: number, index: number): string {
  return `seg-${String(msn).padStart(9, '0')}.p${index}.ts`;
}

/** Rounds as the RFC means it (nearest integer), ignoring float noise below a millisecond. */
function roundedSeconds(seconds: number): number {
  return Math.round(Number(seconds.toFixed(3)));
}

const EPSILON = 1e-9;

function describeSegment(s: ParsedSegment): string {
  return `${s.uri} EXTINF=${s.duration}${s.discontinuity ? ' (discontinuity)' : ''} PDT=${s.programDateTime === null ? 'none' : new Date(s.programDateTime).toISOString()}`;
}

/** The last listed media position: (msn, parts) with parts = Infinity for a complete segment. */
function liveEdge(snapshot: ParsedSnapshot): { msn: number; parts: number } {
  if (snapshot.open) return { msn: snapshot.open.msn, parts: snapshot.open.parts.length };
  const last = snapshot.segments.at(-1);
  return last
    ? { msn: last.msn, parts: Number.POSITIVE_INFINITY }
    : { msn: snapshot.mediaSequence - 1, parts: Number.POSITIVE_INFINITY };
}

/**
 * Checks every snapshot (oldest first) alone and against all earlier ones. Texts that are not
 * playlists at all (e.g. an error body) should not be passed in.
 */
export function validateSnapshots(
  texts: readonly string[],
  options: ValidatorOptions = {},
): ValidationReport {
  const partUri = options.partUri === undefined ? ourPartUri : options.partUri;
  const tolerance = options.partsSumToleranceSeconds ?? 0.001;
  const violations: Finding[] = [];
  const warnings: Finding[] = [];
  const violation = (snapshot: number, rule: RuleId, message: string) =>
    violations.push({ snapshot, rule, message });
  const warning = (snapshot: number, rule: RuleId, message: string) =>
    warnings.push({ snapshot, rule, message });

  // What earlier snapshots said, by media sequence number.
  const seenSegments = new Map<number, { segment: ParsedSegment; snapshot: number }>();
  const seenParts = new Map<string, { part: ParsedPart; snapshot: number }>();
  let previous: { snapshot: ParsedSnapshot; index: number } | null = null;
  /** The newest hint not yet resolved by a later snapshot listing more media. */
  let pendingHint: { uri: string; snapshot: number; edge: { msn: number; parts: number } } | null = null;

  texts.forEach((text, index) => {
    const snap = parseSnapshot(text);
    for (const line of snap.malformed) violation(index, 'malformed', `cannot parse line: ${line}`);

    // --- RFC 8216 basics -------------------------------------------------------------------
    if (!snap.startsWithExtm3u)
      violation(index, 'extm3u-first', 'the first line is not #EXTM3U (RFC 8216 §4.3.1.1)');
    if (snap.endList)
      violation(index, 'endlist', 'EXT-X-ENDLIST in a live playlist: every player stops for good');
    const target = snap.targetDuration;
    if (target === null || Number.isNaN(target)) {
      violation(
        index,
        'targetduration-present',
        'EXT-X-TARGETDURATION is missing (RFC 8216 §4.3.3.1: REQUIRED)',
      );
    } else {
      for (const segment of snap.segments) {
        if (roundedSeconds(segment.duration) > target) {
          violation(
            index,
            'extinf-within-target',
            `${segment.uri} EXTINF ${segment.duration} rounds to ${roundedSeconds(segment.duration)} > EXT-X-TARGETDURATION ${target} (RFC 8216 §4.3.3.1)`,
          );
        }
      }
      const before = previous?.snapshot.targetDuration;
      if (before !== undefined && before !== null && !Number.isNaN(before)) {
        if (target < before) {
          violation(
            index,
            'targetduration-decreased',
            `EXT-X-TARGETDURATION went from ${before} down to ${target} (RFC 8216 §6.2.1: MUST NOT change)`,
          );
        } else if (target > before) {
          warning(
            index,
            'targetduration-increased',
            `EXT-X-TARGETDURATION was raised from ${before} to ${target} (RFC 8216 §6.2.1 forbids a change; src/hls/playlist.ts raises it once for a longer segment)`,
          );
        }
      }
    }

    // PDT within a discontinuity-free stretch, including the open segment.
    const timeline: Array<{ label: string; discontinuity: boolean; pdt: number | null }> = [
      ...snap.segments.map((s) => ({ label: s.uri, discontinuity: s.discontinuity, pdt: s.programDateTime })),
      ...(snap.open
        ? [
            {
              label: `open segment ${snap.open.msn}`,
              discontinuity: snap.open.discontinuity,
              pdt: snap.open.programDateTime,
            },
          ]
        : []),
    ];
    for (let i = 1; i < timeline.length; i++) {
      const earlier = timeline[i - 1]!;
      const later = timeline[i]!;
      if (later.discontinuity || earlier.pdt === null || later.pdt === null) continue;
      if (later.pdt < earlier.pdt) {
        violation(
          index,
          'pdt-backwards',
          `EXT-X-PROGRAM-DATE-TIME goes backwards without a discontinuity: ${earlier.label} ${new Date(earlier.pdt).toISOString()} then ${later.label} ${new Date(later.pdt).toISOString()}`,
        );
      }
    }

    // --- Low-Latency HLS, alone --------------------------------------------------------------
    const allParts = [...snap.segments.flatMap((s) => s.parts), ...(snap.open?.parts ?? [])];
    if (
      (allParts.length > 0 || snap.preloadHint) &&
      (snap.partTarget === null || Number.isNaN(snap.partTarget))
    ) {
      violation(
        index,
        'part-inf-missing',
        'EXT-X-PART / EXT-X-PRELOAD-HINT without EXT-X-PART-INF (RFC 8216bis §4.4.3.7: REQUIRED)',
      );
    }
    const partTarget = snap.partTarget;
    if (partTarget !== null && !Number.isNaN(partTarget)) {
      if (snap.partHoldBack === null || Number.isNaN(snap.partHoldBack)) {
        violation(
          index,
          'part-hold-back',
          'EXT-X-PART-INF without PART-HOLD-BACK in EXT-X-SERVER-CONTROL (RFC 8216bis §4.4.3.8: REQUIRED)',
        );
      } else if (snap.partHoldBack + EPSILON < 2 * partTarget) {
        violation(
          index,
          'part-hold-back',
          `PART-HOLD-BACK ${snap.partHoldBack} < 2 × PART-TARGET ${partTarget} (RFC 8216bis §4.4.3.8)`,
        );
      }
      const groups: Array<{ label: string; parts: ParsedPart[]; complete: boolean }> = [
        ...snap.segments.map((s) => ({ label: s.uri, parts: s.parts, complete: true })),
        ...(snap.open
          ? [{ label: `open segment ${snap.open.msn}`, parts: snap.open.parts, complete: false }]
          : []),
      ];
      for (const group of groups) {
        group.parts.forEach((part, i) => {
          if (part.duration > partTarget + EPSILON) {
            violation(
              index,
              'part-duration-above-target',
              `${part.uri} DURATION ${part.duration} > PART-TARGET ${partTarget} (RFC 8216bis §4.4.4.9: MUST be ≤)`,
            );
          }
          // The floor exempts INDEPENDENT parts and a segment's final part; the last listed part
          // of the open segment may turn out to be its final one.
          const last = i === group.parts.length - 1;
          if (!part.independent && !last && part.duration + EPSILON < 0.85 * partTarget) {
            violation(
              index,
              'part-duration-below-85pct',
              `${part.uri} DURATION ${part.duration} < 85% of PART-TARGET ${partTarget} (= ${(0.85 * partTarget).toFixed(4)}) and it is neither INDEPENDENT nor the last part of ${group.label} (RFC 8216bis §4.4.4.9: MUST be at least 85%)`,
            );
          }
        });
      }
    }
    for (const segment of snap.segments) {
      if (segment.parts.length === 0) continue;
      const sum = segment.parts.reduce((total, part) => total + part.duration, 0);
      if (Math.abs(sum - segment.duration) > tolerance * segment.parts.length + EPSILON) {
        violation(
          index,
          'parts-sum',
          `the ${segment.parts.length} parts of ${segment.uri} sum to ${sum.toFixed(4)} s but its EXTINF is ${segment.duration}`,
        );
      }
    }
    // The first part of each segment is INDEPENDENT=YES (our design: segments start at a keyframe).
    const firstParts: Array<{ label: string; part: ParsedPart }> = [
      ...snap.segments.filter((s) => s.parts.length > 0).map((s) => ({ label: s.uri, part: s.parts[0]! })),
      ...(snap.open ? [{ label: `open segment ${snap.open.msn}`, part: snap.open.parts[0]! }] : []),
    ];
    for (const { label, part } of firstParts) {
      if (!part.independent) {
        violation(
          index,
          'first-part-independent',
          `the first listed part of ${label} (${part.uri}) is not INDEPENDENT=YES`,
        );
      }
    }
    // Parts SHOULD go once more than three target durations from the end (RFC 8216bis §6.2.2).
    if (target !== null && !Number.isNaN(target)) {
      let fromEnd = (snap.open?.parts ?? []).reduce((total, part) => total + part.duration, 0);
      for (let i = snap.segments.length - 1; i >= 0; i--) {
        const segment = snap.segments[i]!;
        if (segment.parts.length > 0 && fromEnd > 3 * target + 0.001) {
          warning(
            index,
            'parts-window',
            `parts of ${segment.uri} are still listed ${fromEnd.toFixed(3)} s from the end of the playlist (> 3 × TARGETDURATION = ${3 * target} s; RFC 8216bis §6.2.2 SHOULD remove)`,
          );
        }
        fromEnd += segment.duration;
      }
    }
    // Preload hint: last, and the next part.
    if (snap.preloadHint) {
      if (snap.linesAfterHint.length > 0) {
        violation(
          index,
          'preload-hint-last',
          `media after EXT-X-PRELOAD-HINT: ${snap.linesAfterHint.join(' | ')}`,
        );
      }
      const listed = new Set(allParts.map((part) => part.uri));
      if (listed.has(snap.preloadHint.uri)) {
        violation(
          index,
          'preload-hint-next',
          `EXT-X-PRELOAD-HINT names ${snap.preloadHint.uri}, a part already listed`,
        );
      } else if (partUri) {
        const expected = snap.open
          ? partUri(snap.open.msn, snap.open.parts.length)
          : partUri(snap.mediaSequence + snap.segments.length, 0);
        if (snap.preloadHint.uri !== expected) {
          violation(
            index,
            'preload-hint-next',
            `EXT-X-PRELOAD-HINT names ${snap.preloadHint.uri}, but the next part is ${expected}`,
          );
        }
      }
    }

    // --- Against earlier snapshots ---------------------------------------------------------------
    if (previous) {
      const before = previous.snapshot;
      if (snap.mediaSequence < before.mediaSequence) {
        violation(
          index,
          'media-sequence-decreased',
          `EXT-X-MEDIA-SEQUENCE went from ${before.mediaSequence} back to ${snap.mediaSequence}`,
        );
      }
      const edgeBefore = liveEdge(before);
      const edgeNow = liveEdge(snap);
      if (
        edgeNow.msn < edgeBefore.msn ||
        (edgeNow.msn === edgeBefore.msn && edgeNow.parts < edgeBefore.parts)
      ) {
        violation(
          index,
          'live-edge-regressed',
          `the playlist's live edge went back from msn ${edgeBefore.msn}${Number.isFinite(edgeBefore.parts) ? ` part ${edgeBefore.parts}` : ''} to msn ${edgeNow.msn}${Number.isFinite(edgeNow.parts) ? ` part ${edgeNow.parts}` : ''}`,
        );
      }
      // DISCONTINUITY-SEQUENCE: + the discontinuities that slid out.
      if (snap.mediaSequence >= before.mediaSequence) {
        const known = [...before.segments, ...(before.open ? [before.open] : [])];
        const slid = known.filter((s) => s.msn < snap.mediaSequence);
        const slidDiscontinuities = slid.filter((s) => s.discontinuity).length;
        const expected = before.discontinuitySequence + slidDiscontinuities;
        // Segments that slid out unseen (the window moved further than the old listing) may hold more.
        const unseen = Math.max(0, snap.mediaSequence - before.mediaSequence - slid.length);
        const ok = snap.discontinuitySequence >= expected && snap.discontinuitySequence <= expected + unseen;
        if (!ok) {
          violation(
            index,
            'discontinuity-sequence',
            `EXT-X-DISCONTINUITY-SEQUENCE is ${snap.discontinuitySequence}, expected ${expected}${unseen > 0 ? `..${expected + unseen}` : ''}: ${before.discontinuitySequence} before + ${slidDiscontinuities} discontinuities among the ${slid.length} segments that slid out (RFC 8216 §6.2.2)`,
          );
        }
      } else if (snap.discontinuitySequence < before.discontinuitySequence) {
        violation(
          index,
          'discontinuity-sequence',
          `EXT-X-DISCONTINUITY-SEQUENCE went from ${before.discontinuitySequence} back to ${snap.discontinuitySequence}`,
        );
      }
      // A hint made earlier must be what comes next, unless a discontinuity intervenes (the run ended).
      if (pendingHint) {
        const edge = pendingHint.edge;
        const newParts: Array<{ part: ParsedPart; discontinuityBefore: boolean }> = [];
        for (const segment of [...snap.segments, ...(snap.open ? [{ ...snap.open, uri: '' }] : [])]) {
          if (segment.msn < edge.msn) continue;
          segment.parts.forEach((part, i) => {
            if (segment.msn === edge.msn && i < edge.parts) return;
            newParts.push({ part, discontinuityBefore: i === 0 && segment.discontinuity });
          });
        }
        const first = newParts[0];
        // Judged only when this snapshot still lists the parts of the hinted segment (snapshots
        // far apart may have seen it slide out of the parts window).
        const hintedSegmentListed = [...snap.segments, ...(snap.open ? [snap.open] : [])].some(
          (s) => s.msn === edge.msn && s.parts.length > 0,
        );
        if (first && !hintedSegmentListed) pendingHint = null;
        else if (first) {
          if (first.part.uri !== pendingHint.uri && !first.discontinuityBefore) {
            violation(
              index,
              'preload-hint-broken',
              `snapshot ${pendingHint.snapshot} hinted ${pendingHint.uri} as the next part, but the next part listed is ${first.part.uri} (no discontinuity in between)`,
            );
          }
          pendingHint = null;
        }
      }
    }
    if (snap.preloadHint) {
      const edge = snap.open
        ? { msn: snap.open.msn, parts: snap.open.parts.length }
        : { msn: snap.mediaSequence + snap.segments.length, parts: 0 };
      pendingHint = { uri: snap.preloadHint.uri, snapshot: index, edge };
    }

    // Same msn: same URI, duration, discontinuity, PDT; same part URI: same duration and independence.
    for (const segment of snap.segments) {
      const seen = seenSegments.get(segment.msn);
      if (seen) {
        const a = seen.segment;
        if (
          a.uri !== segment.uri ||
          a.duration !== segment.duration ||
          a.discontinuity !== segment.discontinuity ||
          (a.programDateTime !== null &&
            segment.programDateTime !== null &&
            a.programDateTime !== segment.programDateTime)
        ) {
          violation(
            index,
            'segment-changed',
            `media sequence ${segment.msn} changed since snapshot ${seen.snapshot}: was ${describeSegment(a)}, now ${describeSegment(segment)}`,
          );
        }
      } else {
        seenSegments.set(segment.msn, { segment, snapshot: index });
      }
    }
    const partsByPosition: Array<{ msn: number; index: number; part: ParsedPart }> = [];
    for (const segment of [...snap.segments, ...(snap.open ? [snap.open] : [])]) {
      for (const [i, part] of segment.parts.entries())
        partsByPosition.push({ msn: segment.msn, index: i, part });
    }
    for (const { msn, index: i, part } of partsByPosition) {
      const key = `${msn}/${i}`;
      const seen = seenParts.get(key);
      if (seen) {
        const a = seen.part;
        if (a.uri !== part.uri || a.duration !== part.duration || a.independent !== part.independent) {
          violation(
            index,
            'part-changed',
            `part ${i} of media sequence ${msn} changed since snapshot ${seen.snapshot}: was ${a.uri} ${a.duration}${a.independent ? ' INDEPENDENT' : ''}, now ${part.uri} ${part.duration}${part.independent ? ' INDEPENDENT' : ''}`,
          );
        }
      } else {
        seenParts.set(key, { part, snapshot: index });
      }
    }
    // An open segment seen before must keep its discontinuity flag and PDT when it completes.
    if (previous?.snapshot.open) {
      const was = previous.snapshot.open;
      const now =
        snap.segments.find((s) => s.msn === was.msn) ?? (snap.open?.msn === was.msn ? snap.open : null);
      if (
        now &&
        (now.discontinuity !== was.discontinuity ||
          (was.programDateTime !== null &&
            now.programDateTime !== null &&
            was.programDateTime !== now.programDateTime))
      ) {
        violation(
          index,
          'segment-changed',
          `media sequence ${was.msn} changed from its open form in snapshot ${previous.index}: discontinuity ${was.discontinuity} → ${now.discontinuity}, PDT ${was.programDateTime} → ${now.programDateTime}`,
        );
      }
    }

    previous = { snapshot: snap, index };
  });
  return { violations, warnings };
}

/** One line per finding, for assertion messages. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `#${f.snapshot} [${f.rule}] ${f.message}`).join('\n');
}

/**
 * One line per rule: how many findings, in how many snapshots, and the first one in full (a
 * live stream repeats the same problem in every snapshot that still lists it).
 */
export function summarizeFindings(findings: readonly Finding[]): string {
  const byRule = new Map<RuleId, Finding[]>();
  for (const finding of findings) byRule.set(finding.rule, [...(byRule.get(finding.rule) ?? []), finding]);
  return [...byRule.entries()]
    .map(([rule, list]) => {
      const snapshots = new Set(list.map((f) => f.snapshot)).size;
      return `[${rule}] ${list.length} findings in ${snapshots} snapshots; first: #${list[0]!.snapshot} ${list[0]!.message}`;
    })
    .join('\n');
}

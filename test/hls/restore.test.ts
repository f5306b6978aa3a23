import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ParsedPlaylist } from '../../src/hls/playlist.ts';
import { continuedPlaylist, type PreviousOutput } from '../../src/hls/restore.ts';
import type { PublisherState } from '../../src/hls/state-file.ts';

const T0 = Date.UTC(2026, 10, 30, 11, 0, 0);

function playlistOf(sequences: number[]): ParsedPlaylist {
  return {
    targetDurationSeconds: 3,
    mediaSequence: sequences[0] ?? 0,
    discontinuitySequence: 4,
    segments: sequences.map((sequence) => ({
      sequence,
      uri: `seg-${String(sequence).padStart(9, '0')}.ts`,
      durationSeconds: 2,
      programDateTime: T0 + sequence * 2000,
      discontinuity: false,
    })),
  };
}

function previous(overrides: Partial<PreviousOutput>): PreviousOutput {
  return { playlist: null, state: null, publicNames: [], listedFileBytes: new Map(), ...overrides };
}

describe('continuedPlaylist (pure start-up restore)', () => {
  test('nothing left behind: a new playlist, no discontinuity to mark', () => {
    const continued = continuedPlaylist(previous({}), 2, T0);
    assert.equal(continued.model.nextSequence, 0);
    assert.equal(continued.model.entries.length, 0);
    assert.equal(continued.model.discontinuityPending, false);
    assert.equal(continued.droppedMissing, false);
    assert.deepEqual(continued.retained, []);
  });

  test('continues the playlist with the facts of the state file, after a discontinuity', () => {
    const state: PublisherState = {
      version: 1,
      nextSequence: 12,
      targetDurationSeconds: 4,
      listed: [{ sequence: 10, frames: 30, longestPlaylistSeconds: 8 }],
      retained: [
        { sequence: 9, uri: 'seg-000000009.ts', bytes: 5, removedAt: T0, earliestDeleteAt: T0, deleteAt: T0 },
        { sequence: 8, uri: 'seg-000000008.ts', bytes: 5, removedAt: T0, earliestDeleteAt: T0, deleteAt: T0 },
      ],
    };
    const continued = continuedPlaylist(
      previous({
        playlist: playlistOf([10, 11]),
        state,
        publicNames: ['seg-000000009.ts', 'seg-000000010.ts', 'seg-000000011.ts', 'seg-000000013.ts'],
        listedFileBytes: new Map([
          ['seg-000000010.ts', 100],
          ['seg-000000011.ts', 200],
        ]),
      }),
      2,
      T0,
    );
    const { model } = continued;
    assert.equal(model.nextSequence, 14, 'after the newest file of ours on disk');
    assert.equal(model.targetDurationSeconds, 4);
    assert.equal(model.discontinuitySequence, 4);
    assert.equal(model.discontinuityPending, true);
    assert.deepEqual(
      model.entries.map((entry) => [entry.segment.bytes, entry.segment.frames, entry.longestPlaylistSeconds]),
      [
        [100, 30, 8],
        [200, null, 4],
      ],
    );
    assert.deepEqual(
      continued.retained.map((segment) => segment.uri),
      ['seg-000000009.ts'],
      'a retained segment whose file is gone is forgotten',
    );
    assert.equal(continued.droppedMissing, false);
  });

  test('a listed file that vanished drops it and everything older; the older present ones are retired now', () => {
    const continued = continuedPlaylist(
      previous({
        playlist: playlistOf([0, 1, 2, 3]),
        publicNames: ['seg-000000000.ts', 'seg-000000002.ts', 'seg-000000003.ts'],
        listedFileBytes: new Map([
          ['seg-000000000.ts', 10],
          ['seg-000000001.ts', null],
          ['seg-000000002.ts', 10],
          ['seg-000000003.ts', 10],
        ]),
      }),
      2,
      T0,
    );
    assert.equal(continued.droppedMissing, true);
    assert.deepEqual(
      continued.model.entries.map((entry) => entry.segment.sequence),
      [2, 3],
    );
    assert.deepEqual(
      continued.retained.map((segment) => [segment.sequence, segment.removedAt]),
      [[0, T0]],
    );
    assert.equal(continued.model.nextSequence, 4);
  });
});

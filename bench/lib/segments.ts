/** What an HLS output directory holds: video packets, stream time and bytes of all its .ts segments. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SegmentsSummary {
  segments: number;
  bytes: number;
  /** Video packets (= encoded frames). */
  frames: number;
  /** Stream time covered, seconds: last pts - first pts + one frame. */
  streamSeconds: number;
  keyframes: number;
}

/** ffprobe's count of the video packets (= encoded frames) in an MPEG-TS stream. */
export function probeVideo(
  input: Buffer,
  nominalFps: number,
  what: string,
): Pick<SegmentsSummary, 'frames' | 'streamSeconds' | 'keyframes'> {
  const probe = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts_time,flags',
      '-of',
      'csv=p=0',
      '-i',
      'pipe:0',
    ],
    { input, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
  );
  if (probe.status !== 0)
    throw new Error(`ffprobe failed on ${what}: ${probe.stderr.toString().slice(-500)}`);
  const packets = probe.stdout
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pts, flags] = line.split(',');
      return { pts: Number(pts), key: (flags ?? '').includes('K') };
    })
    .filter((p) => Number.isFinite(p.pts));
  const pts = packets.map((p) => p.pts);
  return {
    frames: packets.length,
    streamSeconds: pts.length ? Math.max(...pts) - Math.min(...pts) + 1 / nominalFps : 0,
    keyframes: packets.filter((p) => p.key).length,
  };
}

/** Concatenates the segments in name order (MPEG-TS concatenates byte-wise) and lets ffprobe count. */
export function summarizeSegments(dir: string, nominalFps: number): SegmentsSummary {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const input = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
  if (input.length === 0) return { segments: 0, bytes: 0, frames: 0, streamSeconds: 0, keyframes: 0 };
  return { segments: files.length, bytes: input.length, ...probeVideo(input, nominalFps, dir) };
}

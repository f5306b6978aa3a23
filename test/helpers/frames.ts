/**
 * Colour checks on real decoded video: ffmpeg decodes one frame (from a file,
 * an image, or an HLS playlist URL) scaled to 16x16 RGB, and we average it.
 * The rig paints monitor 1 red and monitor 2 blue, so the dominant colour
 * tells which monitor a stream shows.
 */
import { ExecaError, execa } from 'execa';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export type ColourName = 'red' | 'green' | 'blue' | 'black' | 'white' | 'other';

const SAMPLE_SIDE = 16;
const SAMPLE_BYTES = SAMPLE_SIDE * SAMPLE_SIDE * 3;
const DEFAULT_TIMEOUT_MS = 30_000;

export class FrameDecodeError extends Error {
  override name = 'FrameDecodeError';
}

/** Mean of packed rgb24 pixels. */
export function averageRgb(pixels: Uint8Array): Rgb {
  const count = Math.floor(pixels.length / 3);
  if (count === 0) throw new FrameDecodeError('no pixels to average');
  let r = 0;
  let g = 0;
  let b = 0;
  for (let i = 0; i < count * 3; i += 3) {
    r += pixels[i]!;
    g += pixels[i + 1]!;
    b += pixels[i + 2]!;
  }
  return { r: r / count, g: g / count, b: b / count };
}

/** Decodes ONE frame of `source` (file path or URL) and returns its mean RGB (0–255 each). */
export async function meanColour(
  source: string,
  options: { seekSeconds?: number; timeoutMs?: number } = {},
): Promise<Rgb> {
  const { seekSeconds, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (seekSeconds !== undefined) {
    if (!Number.isFinite(seekSeconds) || seekSeconds < 0) {
      throw new RangeError(`seekSeconds must be a finite number >= 0, got ${seekSeconds}`);
    }
    args.push('-ss', String(seekSeconds));
  }
  args.push('-i', source, '-frames:v', '1', '-vf', `scale=${SAMPLE_SIDE}:${SAMPLE_SIDE}`);
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-');

  let pixels: Uint8Array;
  try {
    const result = await execa('ffmpeg', args, { encoding: 'buffer', timeout: timeoutMs, stdin: 'ignore' });
    pixels = result.stdout;
  } catch (error) {
    const stderr =
      error instanceof ExecaError
        ? Buffer.from(error.stderr ?? '')
            .toString()
            .trim()
        : '';
    throw new FrameDecodeError(`ffmpeg could not decode a frame of ${source}: ${stderr || String(error)}`, {
      cause: error,
    });
  }
  if (pixels.length < SAMPLE_BYTES) {
    throw new FrameDecodeError(
      `ffmpeg returned ${pixels.length} bytes for ${source}, expected ${SAMPLE_BYTES} (one ${SAMPLE_SIDE}x${SAMPLE_SIDE} rgb24 frame)`,
    );
  }
  return averageRgb(pixels.subarray(0, SAMPLE_BYTES));
}

/**
 * Names the colour that clearly dominates: one channel well above both others
 * (at most half of it), or near-black / near-white. Anything mixed is 'other'.
 */
export function dominant(colour: Rgb): ColourName {
  const { r, g, b } = colour;
  if (Math.max(r, g, b) < 64) return 'black';
  if (Math.min(r, g, b) > 192) return 'white';
  const channels: [ColourName, number, number][] = [
    ['red', r, Math.max(g, b)],
    ['green', g, Math.max(r, b)],
    ['blue', b, Math.max(r, g)],
  ];
  for (const [name, value, strongestOther] of channels) {
    if (value >= 96 && strongestOther <= value / 2) return name;
  }
  return 'other';
}

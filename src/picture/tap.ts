/**
 * What the stream shows: a kiosk whose app froze or went black still produces a perfectly healthy
 * stream. A low-rate branch of the pipeline (1 frame/s) sends a tiny grey thumbnail on fd 3 and a
 * small JPEG on fd 4; this turns them into "seconds since the picture last changed", mean
 * brightness, and the latest snapshot. Pure apart from the clock it is given.
 */

export const TAP_GRAY_WIDTH = 64;
export const TAP_GRAY_HEIGHT = 36;
export const TAP_JPEG_WIDTH = 320;
export const TAP_JPEG_HEIGHT = 180;
const FRAME_BYTES = TAP_GRAY_WIDTH * TAP_GRAY_HEIGHT;
/** A pixel that moved by more than this (0–255) is a change; a static X screen captures identically. */
const CHANGE_THRESHOLD = 6;
/** Snapshots larger than this are dropped (a broken stream must not grow memory). */
const MAX_JPEG_BYTES = 2 * 1024 * 1024;

export interface PictureSnapshot {
  unchangedSeconds: number;
  /** Mean luma, 0–1. */
  brightness: number;
}

/** Mean luma as 0 (black) … 1 (white). GStreamer's GRAY8 is limited range: black is 16, white 235. */
export function meanBrightness(frame: Uint8Array): number {
  if (frame.length === 0) return 0;
  let sum = 0;
  for (const value of frame) sum += value;
  return Math.min(1, Math.max(0, (sum / frame.length - 16) / 219));
}

export function pictureChanged(previous: Uint8Array, next: Uint8Array): boolean {
  if (previous.length !== next.length) return true;
  for (let i = 0; i < next.length; i++) {
    if (Math.abs(next[i]! - previous[i]!) > CHANGE_THRESHOLD) return true;
  }
  return false;
}

export class PictureTap {
  readonly #now: () => number;
  #pendingGray = Buffer.alloc(0);
  #pendingJpeg = Buffer.alloc(0);
  #lastFrame: Uint8Array | null = null;
  #lastChangeAt = 0;
  #brightness = 0;
  #jpeg: Buffer | null = null;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Bytes from fd 3: consecutive GRAY8 frames of TAP_GRAY_WIDTH × TAP_GRAY_HEIGHT. */
  feedGray(chunk: Buffer): void {
    this.#pendingGray = Buffer.concat([this.#pendingGray, chunk]);
    while (this.#pendingGray.length >= FRAME_BYTES) {
      const frame = this.#pendingGray.subarray(0, FRAME_BYTES);
      this.#pendingGray = this.#pendingGray.subarray(FRAME_BYTES);
      this.#onFrame(Uint8Array.from(frame));
    }
  }

  /** Bytes from fd 4: consecutive baseline JPEGs; a JPEG ends at its EOI marker (FF D9). */
  feedJpeg(chunk: Buffer): void {
    this.#pendingJpeg = Buffer.concat([this.#pendingJpeg, chunk]);
    for (;;) {
      const end = this.#pendingJpeg.indexOf(EOI);
      if (end === -1) break;
      const image = this.#pendingJpeg.subarray(0, end + 2);
      this.#pendingJpeg = this.#pendingJpeg.subarray(end + 2);
      if (image[0] === 0xff && image[1] === 0xd8) this.#jpeg = Buffer.from(image);
    }
    if (this.#pendingJpeg.length > MAX_JPEG_BYTES) this.#pendingJpeg = Buffer.alloc(0);
  }

  /** A new pipeline run: partial frames of the old one are dropped, the picture history is kept. */
  resetStreams(): void {
    this.#pendingGray = Buffer.alloc(0);
    this.#pendingJpeg = Buffer.alloc(0);
  }

  #onFrame(frame: Uint8Array): void {
    const now = this.#now();
    if (this.#lastFrame === null || pictureChanged(this.#lastFrame, frame)) this.#lastChangeAt = now;
    this.#lastFrame = frame;
    this.#brightness = meanBrightness(frame);
  }

  snapshot(): PictureSnapshot | null {
    if (this.#lastFrame === null) return null;
    return { unchangedSeconds: (this.#now() - this.#lastChangeAt) / 1000, brightness: this.#brightness };
  }

  jpeg(): Buffer | null {
    return this.#jpeg;
  }
}

const EOI = Buffer.from([0xff, 0xd9]);

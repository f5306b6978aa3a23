import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectorDefinition } from '../scrape.ts';

export interface AmdGpuCollectorDeps {
  /** Root of sysfs, e.g. '/sys' (tests: a fixture tree). */
  sysfsRoot: string;
}

export interface AmdGpuCard {
  /** e.g. "card0" */
  card: string;
  driver: string;
  vramUsedBytes: number | null;
  vramTotalBytes: number | null;
  gttUsedBytes: number | null;
  gttTotalBytes: number | null;
  /** 0–1 */
  busyRatio: number | null;
}

const CARD_NAME = /^card(\d+)$/;

/** Parses a sysfs `uevent` file and returns its DRIVER= value, or null. Pure. */
export function parseUeventDriver(uevent: string): string | null {
  const match = /^DRIVER=(.*)$/m.exec(uevent);
  return match?.[1]?.trim() || null;
}

/** A sysfs integer file; null when absent or not an integer (every file is optional). */
async function readIntegerFile(path: string): Promise<number | null> {
  const text = await readOptionalFile(path);
  if (text === null) return null;
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

async function readOptionalFile(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENODEV/EINVAL/EBUSY: some amdgpu attributes refuse reads while the device sleeps or resets.
    if (
      code === 'ENOENT' ||
      code === 'ENOTDIR' ||
      code === 'ENODEV' ||
      code === 'EINVAL' ||
      code === 'EBUSY'
    ) {
      return null;
    }
    throw error;
  }
}

/**
 * The amdgpu cards under <sysfsRoot>/class/drm, in card-number order, like node_exporter's drm
 * collector: only `cardN` nodes (connectors such as card0-DP-1 are skipped), only cards whose
 * device/uevent says DRIVER=amdgpu.
 */
export async function readAmdGpuCards(sysfsRoot: string): Promise<AmdGpuCard[]> {
  const classDir = join(sysfsRoot, 'class', 'drm');
  let entries: string[];
  try {
    entries = await readdir(classDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const cardNames = entries
    .filter((name) => CARD_NAME.test(name))
    .sort((a, b) => Number(CARD_NAME.exec(a)?.[1]) - Number(CARD_NAME.exec(b)?.[1]));
  const cards: AmdGpuCard[] = [];
  for (const card of cardNames) {
    const device = join(classDir, card, 'device');
    const uevent = await readOptionalFile(join(device, 'uevent'));
    const driver = uevent === null ? null : parseUeventDriver(uevent);
    if (driver !== 'amdgpu') continue;
    const [vramUsed, vramTotal, gttUsed, gttTotal, busyPercent] = await Promise.all(
      [
        'mem_info_vram_used',
        'mem_info_vram_total',
        'mem_info_gtt_used',
        'mem_info_gtt_total',
        'gpu_busy_percent',
      ].map((file) => readIntegerFile(join(device, file))),
    );
    cards.push({
      card,
      driver,
      vramUsedBytes: vramUsed ?? null,
      vramTotalBytes: vramTotal ?? null,
      gttUsedBytes: gttUsed ?? null,
      gttTotalBytes: gttTotal ?? null,
      busyRatio: busyPercent === null || busyPercent === undefined ? null : busyPercent / 100,
    });
  }
  return cards;
}

/** AMD GPU memory and load from sysfs, with node_exporter's drm semantics (every file optional). */
export function amdGpuCollector(deps: AmdGpuCollectorDeps): CollectorDefinition {
  return {
    name: 'amdgpu',
    setup(metrics) {
      const info = metrics.gauge(
        'desktop_streamer_drm_card_info',
        'Every DRM card whose driver is amdgpu (always 1).',
        ['card', 'driver'],
      );
      const vramUsed = metrics.gauge(
        'desktop_streamer_drm_memory_vram_used_bytes',
        'amdgpu mem_info_vram_used: VRAM in use.',
        ['card'],
      );
      const vramSize = metrics.gauge(
        'desktop_streamer_drm_memory_vram_size_bytes',
        'amdgpu mem_info_vram_total: VRAM size.',
        ['card'],
      );
      const gttUsed = metrics.gauge(
        'desktop_streamer_drm_memory_gtt_used_bytes',
        'amdgpu mem_info_gtt_used: GTT (system memory mapped for the GPU) in use.',
        ['card'],
      );
      const gttSize = metrics.gauge(
        'desktop_streamer_drm_memory_gtt_size_bytes',
        'amdgpu mem_info_gtt_total: GTT size.',
        ['card'],
      );
      const busy = metrics.gauge('desktop_streamer_drm_gpu_busy_ratio', 'amdgpu gpu_busy_percent / 100.', [
        'card',
      ]);
      const valued = [
        [vramUsed, 'vramUsedBytes'],
        [vramSize, 'vramTotalBytes'],
        [gttUsed, 'gttUsedBytes'],
        [gttSize, 'gttTotalBytes'],
        [busy, 'busyRatio'],
      ] as const;

      return async () => {
        const cards = await readAmdGpuCards(deps.sysfsRoot);
        info.reset();
        for (const [gauge] of valued) gauge.reset();
        for (const card of cards) {
          info.set({ card: card.card, driver: card.driver }, 1);
          for (const [gauge, field] of valued) {
            const value = card[field];
            if (value !== null) gauge.set({ card: card.card }, value);
          }
        }
      };
    },
  };
}

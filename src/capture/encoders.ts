/**
 * Encoder choice: the ladder vah264enc → vaapih264enc → x264enc → openh264enc, probed with
 * gst-inspect-1.0 and, for VAAPI, the presence of a DRM render node. The decision is pure
 * (chooseEncoder); probing is I/O (probeEncoders).
 */
import { readdir } from 'node:fs/promises';
import type { EncoderChoice } from '../config/schema.ts';
import { runCommand } from '../system/run-command.ts';
import type { EncoderChoiceResult, EncoderElement } from './types.ts';

export const ENCODER_LADDER: readonly EncoderElement[] = [
  'vah264enc',
  'vaapih264enc',
  'x264enc',
  'openh264enc',
];

const VAAPI: ReadonlySet<EncoderElement> = new Set(['vah264enc', 'vaapih264enc']);

export interface EncoderProbe {
  /** Elements gst-inspect-1.0 knows. */
  available: ReadonlySet<EncoderElement>;
  /** A /dev/dri/renderD* node exists (VAAPI needs one). */
  renderNode: string | null;
}

export class NoEncoderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoEncoderError';
  }
}

/** Which ladder steps a config value allows, in order. */
export function candidatesFor(choice: EncoderChoice): EncoderElement[] {
  switch (choice) {
    case 'auto':
      return [...ENCODER_LADDER];
    case 'vaapi':
      return ['vah264enc', 'vaapih264enc'];
    case 'x264':
    case 'x264enc':
      return ['x264enc'];
    case 'openh264':
    case 'openh264enc':
      return ['openh264enc'];
    default:
      return [choice];
  }
}

/**
 * Pick the first usable encoder among the candidates, skipping `demoted` ones (encoders that
 * failed at run time). Explains every skipped step in `reason`.
 */
export function chooseEncoder(
  choice: EncoderChoice,
  probe: EncoderProbe,
  demoted: ReadonlySet<EncoderElement> = new Set(),
): EncoderChoiceResult {
  const skipped: string[] = [];
  for (const element of candidatesFor(choice)) {
    if (demoted.has(element)) {
      skipped.push(`${element} failed at run time`);
    } else if (!probe.available.has(element)) {
      skipped.push(`${element} not installed`);
    } else if (VAAPI.has(element) && probe.renderNode === null) {
      skipped.push(`${element} needs a /dev/dri/renderD* node and there is none`);
    } else {
      const how = VAAPI.has(element) ? `hardware encoder on ${probe.renderNode}` : 'software encoder';
      const why = skipped.length > 0 ? ` (${skipped.join('; ')})` : '';
      return { element, reason: `encoder "${choice}": ${element}, ${how}${why}` };
    }
  }
  throw new NoEncoderError(`no usable H.264 encoder for encoder "${choice}": ${skipped.join('; ')}`);
}

/** The next usable encoder after `failed`, or null when the ladder is exhausted. */
export function demote(
  choice: EncoderChoice,
  probe: EncoderProbe,
  demoted: ReadonlySet<EncoderElement>,
): EncoderChoiceResult | null {
  try {
    return chooseEncoder(choice, probe, demoted);
  } catch (error) {
    if (error instanceof NoEncoderError) return null;
    throw error;
  }
}

export interface ProbeOptions {
  gstInspect?: string;
  devDri?: string;
  env?: NodeJS.ProcessEnv;
}

export async function probeEncoders(options: ProbeOptions = {}): Promise<EncoderProbe> {
  const gstInspect = options.gstInspect ?? 'gst-inspect-1.0';
  const checks = await Promise.all(
    ENCODER_LADDER.map(async (element) => {
      const result = await runCommand(gstInspect, ['--exists', element], {
        timeoutMs: 20_000,
        env: options.env,
      });
      return result.exitCode === 0 ? element : null;
    }),
  );
  const available = new Set(checks.filter((e): e is EncoderElement => e !== null));
  return { available, renderNode: await findRenderNode(options.devDri ?? '/dev/dri') };
}

async function findRenderNode(devDri: string): Promise<string | null> {
  try {
    const node = (await readdir(devDri)).filter((name) => name.startsWith('renderD')).sort()[0];
    return node ? `${devDri}/${node}` : null;
  } catch {
    return null;
  }
}

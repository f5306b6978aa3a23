/**
 * Result files of the benches: bench/results/<name>-<timestamp>.jsonl (gitignored). JSON Lines —
 * the first line is the summary (with the exact command), then one line per run/sample — so they
 * are easy to grep and jq, and the repo's lint (biome formats .json, not .jsonl) leaves them alone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';

export const RESULTS_DIR = new URL('../results/', import.meta.url).pathname;

export function resultStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** Writes the file and returns its path. */
export function writeResults(
  name: string,
  summary: unknown,
  records: readonly unknown[],
  stamp = resultStamp(),
): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${name}-${stamp}.jsonl`;
  const lines = [JSON.stringify({ summary }), ...records.map((record) => JSON.stringify(record))];
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

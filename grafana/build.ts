/**
 * Writes grafana/dashboards/*.json from the TypeScript sources in grafana/src/.
 *   tsx grafana/build.ts          regenerate the files
 *   tsx grafana/build.ts --check  exit 1 if a committed file differs from its source (or is missing/stale)
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderAll } from './src/index.ts';

export const DASHBOARDS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');

/** Names of the files that are missing, differ, or exist without a source. */
export async function outdatedDashboards(dir = DASHBOARDS_DIR): Promise<string[]> {
  const expected = renderAll();
  const problems: string[] = [];
  for (const [file, text] of expected) {
    const actual = await readFile(path.join(dir, file), 'utf8').catch(() => null);
    if (actual === null) problems.push(`${file}: missing`);
    else if (actual !== text) problems.push(`${file}: differs from grafana/src`);
  }
  for (const file of await readdir(dir)) {
    if (file.endsWith('.json') && !expected.has(file)) problems.push(`${file}: has no source in grafana/src`);
  }
  return problems;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--check')) {
    const problems = await outdatedDashboards();
    if (problems.length === 0) return 0;
    for (const p of problems) process.stderr.write(`grafana/dashboards/${p}\n`);
    process.stderr.write('Run `npm run dashboards:build` and commit the result.\n');
    return 1;
  }
  for (const [file, text] of renderAll()) {
    await writeFile(path.join(DASHBOARDS_DIR, file), text);
    process.stdout.write(`wrote grafana/dashboards/${file}\n`);
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

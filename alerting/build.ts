/**
 * Writes alerting/mixin.yml's runbook_base_url into every runbook_url of the alert rules and of
 * their promtool tests (the mixin way: absolute links in the rules, one setting to change them).
 * Only the URL before "#" changes; the anchor stays, so a rule added with a relative
 * `alerting/runbooks.md#<anchor>` is brought in line by one run.
 *   tsx alerting/build.ts          rewrite the files
 *   tsx alerting/build.ts --check  exit 1 if a file is stale
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ALERTING_DIR = path.dirname(fileURLToPath(import.meta.url));

export class MixinConfigError extends Error {
  override readonly name = 'MixinConfigError';
}

/** runbook_base_url of mixin.yml content, checked. Pure. */
export function runbookBaseUrl(mixinYaml: string): string {
  const value = (parse(mixinYaml) as { runbook_base_url?: unknown } | null)?.runbook_base_url;
  const allowed = 'allowed: an http:// or https:// URL without "#"';
  if (typeof value !== 'string') {
    throw new MixinConfigError(
      `alerting/mixin.yml: runbook_base_url is ${JSON.stringify(value)}; ${allowed}`,
    );
  }
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || !/^https?:$/.test(url.protocol) || value.includes('#')) {
    throw new MixinConfigError(
      `alerting/mixin.yml: runbook_base_url ${JSON.stringify(value)} is not allowed; ${allowed}`,
    );
  }
  return value;
}

const RUNBOOK_LINE = /^(\s*runbook_url:\s*)(\S*?)#([a-z0-9-]+)\s*$/;

/** `text` with every `runbook_url: <anything>#<anchor>` line pointing at `base#<anchor>`. Pure. */
export function withRunbookBase(text: string, base: string): string {
  return text
    .split('\n')
    .map((line) => {
      const match = RUNBOOK_LINE.exec(line);
      return match ? `${match[1]}${base}#${match[3]}` : line;
    })
    .join('\n');
}

/** The rule and test files the base goes into, relative to alerting/. */
export async function generatedFiles(dir = ALERTING_DIR): Promise<string[]> {
  const inDir = async (sub: string, suffix: string) =>
    (await readdir(path.join(dir, sub))).filter((f) => f.endsWith(suffix)).map((f) => `${sub}/${f}`);
  return [...(await inDir('rules', '.alerts.yml')), ...(await inDir('tests', '.test.yml'))].sort();
}

/** Files whose runbook_url lines do not match mixin.yml. */
export async function staleFiles(dir = ALERTING_DIR): Promise<string[]> {
  const base = runbookBaseUrl(await readFile(path.join(dir, 'mixin.yml'), 'utf8'));
  const stale: string[] = [];
  for (const file of await generatedFiles(dir)) {
    const text = await readFile(path.join(dir, file), 'utf8');
    if (withRunbookBase(text, base) !== text) stale.push(file);
  }
  return stale;
}

async function main(argv: string[]): Promise<number> {
  try {
    if (argv.includes('--check')) {
      const stale = await staleFiles();
      if (stale.length === 0) return 0;
      for (const file of stale)
        process.stderr.write(`alerting/${file}: runbook_url differs from alerting/mixin.yml\n`);
      process.stderr.write('Run `npm run alerting:build` and commit the result.\n');
      return 1;
    }
    const base = runbookBaseUrl(await readFile(path.join(ALERTING_DIR, 'mixin.yml'), 'utf8'));
    for (const file of await generatedFiles()) {
      const target = path.join(ALERTING_DIR, file);
      const text = await readFile(target, 'utf8');
      const next = withRunbookBase(text, base);
      if (next === text) continue;
      await writeFile(target, next);
      process.stdout.write(`wrote alerting/${file}\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof MixinConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 78;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

#!/usr/bin/env node
/**
 * The `desktop-streamer` command: run (default), check-config, status, stream, alertmanager-config, version.
 * Each command imports what it needs when it runs, so the long-running supervisor does not carry
 * the others' modules (the YAML writer, the status renderer) in its memory.
 */
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { bindAddressIssue, formatIssue } from '../config/validate.ts';
import { EXIT } from '../exit-codes.ts';
import { VERSION } from '../version.ts';

const USAGE = `Usage: desktop-streamer [command] [options]

Commands:
  run [--config PATH]          capture the second monitor and serve live HLS on :8888 (default)
  check-config [PATH | --config PATH]
                               validate a config file without starting (exit 78 when invalid)
  status [--url URL] [--config PATH] [--json]
                               summary of a running supervisor (exit 1 unhealthy, 2 unreachable)
  stream start|stop|restart|cleanup [--config PATH] [--url URL] [--token-file PATH]
                               control the running supervisor with the token the service uses
  alertmanager-config [--watchdog-config PATH] [--out DIR]
                               turn the older watchdog-config.json into an alertmanager.yml
  version                      print the version

The config file is --config PATH, else $DESKTOP_STREAMER_CONFIG, else /etc/desktop-streamer/config.json.
`;

async function checkConfig(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string' } },
    allowPositionals: true,
  });
  try {
    const { config, path, warnings } = await loadConfig(positionals[0] ?? values.config);
    for (const warning of warnings) console.warn(`warning: ${warning}`);
    // Only here, not at load: at boot the network may come up after the service starts.
    const unusable = bindAddressIssue(config.bind_address, networkInterfaces());
    if (unusable !== null) {
      console.error(`${path ?? 'built-in defaults'}: 1 invalid value(s):\n  ${formatIssue(unusable)}`);
      return EXIT.config;
    }
    console.log(`${path ?? 'built-in defaults'}: OK`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return EXIT.config;
    }
    throw error;
  }
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  const { runSupervisor } = await import('../main.ts');
  return runSupervisor({ configPath: values.config });
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = command === first ? rest : argv;
  try {
    switch (command) {
      case 'run':
        return await run(args);
      case 'check-config':
        return await checkConfig(args);
      case 'status':
        return await (await import('./status.ts')).runStatus(args);
      case 'stream':
        return await (await import('./stream.ts')).runStream(args);
      case 'alertmanager-config':
        return await (await import('../migrate/watchdog-config.ts')).runAlertmanagerConfigCommand(args);
      case 'version':
      case '--version':
        console.log(VERSION);
        return EXIT.ok;
      case 'help':
        console.log(USAGE);
        return EXIT.ok;
      default:
        console.error(`unknown command "${command}"\n\n${USAGE}`);
        return 64;
    }
  } catch (error) {
    // Bad arguments (parseArgs) and the like: a clear message, never a stack trace.
    console.error(`desktop-streamer ${command}: ${(error as Error).message}`);
    return 64;
  }
}

process.exitCode = await main(process.argv.slice(2));
// Whatever a library left open must not keep a stopped supervisor alive.
setTimeout(() => process.exit(), 3000).unref();

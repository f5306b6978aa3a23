#!/usr/bin/env node
/** `desktop-streamer-monitor`: the earlier system's quick status check, now `desktop-streamer status`. */
import { runStatus } from './status.ts';

process.exitCode = await runStatus(process.argv.slice(2));

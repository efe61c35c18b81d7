#!/usr/bin/env node
/** The `sip-fhir` executable: runs the command line on the process's own streams. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});

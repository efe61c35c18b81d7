#!/usr/bin/env node
/** The `sip-fhir` executable: runs the command line on the process's own streams. */
import { main } from './main.js';

/** The last resort: whatever escaped `main` is one line and exit 70, never a stack trace. */
function internalError(error: unknown): never {
  process.stderr.write(`sip-fhir: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(70);
}

// A reader that stops early (`sip-fhir to-fhir plan.json | head`) closes the pipe: end quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') internalError(error);
    process.exit(process.exitCode ?? 0);
  });
}
process.on('uncaughtException', internalError);
process.on('unhandledRejection', internalError);

process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  errIsTerminal: process.stderr.isTTY,
});

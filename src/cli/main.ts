/**
 * `sip-fhir`, the adapter's command line. Every failure is reported as one line on stderr with an
 * exit status (README, "Exit status": 0 pass, 1 invalid input, 2 not judged, 70 internal error);
 * callers never see a stack trace, nor a control character read from a file.
 */
import { escapeControl, escapingIo, type CommandIo } from './io.js';
import { UsageError } from './usage-error.js';

const USAGE = `Usage: sip-fhir <command> [options]

Commands:
  check <plan.json | folder>...   check SIP plans against the SIP model and its rules
  to-fhir <plan.json>             map a SIP plan to a FHIR R4 transaction Bundle
  from-fhir <bundle.json>         read a SIP plan back from a FHIR R4 Bundle
  validate <file | folder>...     validate FHIR R4 resources (.json, .ndjson) against R4 and the SIP profiles
  translate --from F --to F <file | folder>
                                  translate between fhir, sip and municipal formats (mappings/) through the SIP
  mappings list | check <folder>  the municipal systems' mappings; check one with its samples
  token --org <HSA-id> --scope …  print a bearer token signed with the server's local key
  replay <file | folder>... --target <url>
                                  post FHIR Bundles to a FHIR server, compare the answers with what is
                                  expected, and write a report (JSON, JUnit XML)
  serve                           start the service: the SIP API on the embedded store, with the examples
  deliveries list | show | retry  the outbox of deliveries to receivers: list, inspect, retry dead letters

Exit status, alike for every command: 0 the input passes, 1 the input is invalid (malformed JSON,
invalid UTF-8 or a number out of range included), 2 nothing was judged (usage error, an input that
cannot be read or is over --max-file-size, nothing to check), 70 internal error.

Run "sip-fhir <command> --help" for a command's options.`;

/** Each command's module is loaded when it runs: `validate` need not load the SIP mapping, nor `check` the validator. */
const COMMANDS: Readonly<Record<string, (args: readonly string[], io: CommandIo) => Promise<number>>> = {
  check: async (args, io) => (await import('./check-command.js')).runCheck(args, io),
  'to-fhir': async (args, io) => (await import('./fhir-commands.js')).runToFhir(args, io),
  'from-fhir': async (args, io) => (await import('./fhir-commands.js')).runFromFhir(args, io),
  validate: async (args, io) => (await import('./validate-command.js')).runValidate(args, io),
  translate: async (args, io) => (await import('./translate-command.js')).runTranslate(args, io),
  mappings: async (args, io) => (await import('./mappings-command.js')).runMappings(args, io),
  token: async (args, io) => (await import('./token-command.js')).runToken(args, io),
  replay: async (args, io) => (await import('./replay-command.js')).runReplay(args, io),
  serve: async (args, io) => (await import('./serve-command.js')).runServe(args, io),
  deliveries: async (args, io) => (await import('./deliveries-command.js')).runDeliveries(args, io),
};

/** Runs the command line and returns the exit status. */
export async function main(argv: readonly string[], streams: CommandIo): Promise<number> {
  const io = escapingIo(streams);
  const [name, ...args] = argv;
  if (name === undefined) {
    // Usage asked for by mistake is an error: stderr, so that it never passes for a command's output.
    io.err(USAGE);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`sip-fhir: unknown command "${escapeControl(name, true)}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args, io);
  } catch (error) {
    // parseArgs reports unknown options with an ERR_PARSE_ARGS_* code.
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`sip-fhir ${name}: ${(error as Error).message}\nRun "sip-fhir ${name} --help" for usage.`);
      return 2;
    }
    // The message only: a stack trace is for developers, and they can run the tests.
    io.err(`sip-fhir ${name}: internal error: ${error instanceof Error ? error.message : String(error)}`);
    return 70;
  }
}

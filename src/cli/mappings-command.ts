/**
 * `sip-fhir mappings list` and `sip-fhir mappings check <folder>`: the mappings there are, and
 * whether one works — schema, expressions, value maps against the SIP's code lists, and every sample
 * translated in and back out (mappings/README.md, step 8).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkMappingFolder, formatIssue, loadMapping, MAPPING_FILE, MappingLoadError, sampleFiles } from '../exchange/index.js';
import { parseInstant } from './instant.js';
import { escapeControl, type CommandIo } from './io.js';
import { DEFAULT_MAPPINGS_DIR } from './translate-command.js';
import { UsageError } from './usage-error.js';

export const MAPPINGS_USAGE = `Usage: sip-fhir mappings list [--mappings <dir>]
       sip-fhir mappings check [--at <instant>] <folder>...

list   the mappings in mappings/ (or --mappings): name, format, directions, samples, title
check  a mapping folder: mapping.json against the schema, every FHIRPath expression compiled, value
       maps against the SIP's code lists, and every sample translated to a SIP that passes the
       rules and, with an outbound template, back to the system's format (judged as sent at --at,
       else at the plan's own version)

Exit status: 0 the mappings pass, 1 a mapping or sample fails, 2 usage error or no such folder.`;

const line = (text: string): string => escapeControl(text, true);

/** Rows as aligned columns (two spaces apart), the last column as it is. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => (index < row.length - 1 ? cell.padEnd(widths[index] ?? 0) : cell)).join('  ').trimEnd());
}

async function list(mappingsDir: string, io: CommandIo): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(mappingsDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  } catch {
    io.err(`sip-fhir mappings: cannot read the folder "${line(mappingsDir)}"`);
    return 2;
  }
  let status = 0;
  const rows: string[][] = [];
  for (const name of names) {
    try {
      const mapping = await loadMapping(path.join(mappingsDir, name));
      const samples = await sampleFiles(path.join(mappingsDir, name), mapping.document.format);
      const directions = mapping.outbound === undefined ? 'in' : 'in, out';
      rows.push([name, mapping.document.format, directions, `${String(samples.length)} sample${samples.length === 1 ? '' : 's'}`, mapping.document.title ?? '']);
    } catch (error) {
      if (!(error instanceof MappingLoadError)) throw error;
      if (error.issues[0]?.code === 'mapping.unreadable') continue; // a folder without mapping.json is no mapping
      rows.push([name, 'broken', `${String(error.issues.length)} problem${error.issues.length === 1 ? '' : 's'}: run "sip-fhir mappings check ${path.join(mappingsDir, name)}"`]);
      status = 1;
    }
  }
  if (rows.length === 0) io.err(`sip-fhir mappings: no mapping in "${line(mappingsDir)}" (a mapping is a folder with ${MAPPING_FILE})`);
  else io.out(columns(rows).map(line).join('\n'));
  return status;
}

async function check(folders: readonly string[], at: Date | undefined, io: CommandIo): Promise<number> {
  let status = 0;
  for (const folder of folders) {
    const result = await checkMappingFolder(folder, at);
    const lines = [`${line(folder)}: ${result.ok ? 'passes' : 'fails'}`];
    for (const issue of result.issues) lines.push(`  ${line(formatIssue(issue))}`);
    for (const sample of result.samples) {
      const shown = sample.issues.filter((issue) => issue.severity !== 'information');
      lines.push(`  sample ${line(path.basename(sample.file))}: ${sample.ok ? 'translates' : 'fails'}${shown.length > 0 ? ` — ${String(shown.length)} issue${shown.length === 1 ? '' : 's'}` : ''}`);
      for (const issue of shown) lines.push(`    ${line(formatIssue(issue))}`);
    }
    if (result.ok) io.out(lines.join('\n'));
    else io.err(lines.join('\n'));
    if (result.issues.some((issue) => issue.code === 'mapping.unreadable')) status = Math.max(status, 2);
    else if (!result.ok) status = Math.max(status, 1);
  }
  return status;
}

export async function runMappings(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { mappings: { type: 'string' }, at: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    io.out(MAPPINGS_USAGE);
    return 0;
  }
  const [subcommand, ...rest] = positionals;
  if (subcommand === 'list') {
    if (rest.length > 0) throw new UsageError('"mappings list" takes no arguments');
    return list(values.mappings ?? DEFAULT_MAPPINGS_DIR, io);
  }
  if (subcommand === 'check') {
    if (rest.length === 0) throw new UsageError('name the mapping folder(s) to check');
    return check(rest, parseInstant(values.at), io);
  }
  throw new UsageError(subcommand === undefined ? 'name a subcommand: list or check' : `unknown subcommand "${subcommand}": list or check`);
}

/**
 * `mappings check`: everything a mapping's author needs to know before a document is translated with
 * it — the schema, expressions that do not compile, value maps that miss a code the SIP needs (or
 * hold one it does not have), and every sample translated in and, with an outbound template, back
 * out again.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadMapping, MappingLoadError, type Mapping } from './compile.js';
import { SIP_CODE_LISTS } from './code-lists.js';
import { translateInbound, translateOutbound } from './translate.js';
import { isError, type MappingIssue } from './types.js';

export interface SampleCheck {
  readonly file: string;
  readonly ok: boolean;
  readonly issues: readonly MappingIssue[];
}

export interface MappingCheck {
  /** No error in the mapping nor in any sample. */
  readonly ok: boolean;
  readonly mapping?: Mapping;
  /** Problems of the mapping itself. */
  readonly issues: readonly MappingIssue[];
  readonly samples: readonly SampleCheck[];
}

/**
 * Value maps with a SIP `target`: each value must be a code of that list, and each code of the list
 * must be reached (else outbound could not write it: an error when the mapping has an outbound
 * template, a warning when it only reads).
 */
export function checkValueMaps(mapping: Mapping): MappingIssue[] {
  const issues: MappingIssue[] = [];
  for (const map of mapping.valueMaps.values()) {
    const target = map.definition.target;
    if (target === undefined) continue;
    const codes = SIP_CODE_LISTS[target] ?? [];
    for (const [code, value] of map.forward) {
      if (!codes.includes(String(value))) {
        issues.push({ severity: 'error', code: 'mapping.value-map-invalid', file: mapping.file, rule: `valueMaps.${map.name}.entries.${code}`, message: `${JSON.stringify(value)} is not a code of ${target} (${codes.join(', ')})` });
      }
    }
    const reached = new Set([...map.forward.values()].map(String));
    const missing = codes.filter((code) => !reached.has(code));
    if (missing.length > 0) {
      issues.push({
        severity: mapping.outbound === undefined ? 'warning' : 'error',
        code: 'mapping.value-map-incomplete',
        file: mapping.file,
        rule: `valueMaps.${map.name}`,
        message: `no source code for ${missing.map((code) => JSON.stringify(code)).join(', ')} of ${target}${mapping.outbound === undefined ? '' : ': a plan holding it cannot be written'}`,
      });
    }
  }
  return issues;
}

/** The sample files of a mapping folder, in name order: `samples/*.json` or `*.xml` after its format. */
export async function sampleFiles(folder: string, format: 'json' | 'xml'): Promise<string[]> {
  const directory = path.join(folder, 'samples');
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith(`.${format}`))
    .sort()
    .map((name) => path.join(directory, name));
}

/** Translates one sample in, and back out when the mapping can write. */
export async function checkSample(mapping: Mapping, file: string, at?: Date): Promise<SampleCheck> {
  const text = await readFile(file, 'utf8');
  const inbound = translateInbound(mapping, text, { reportLoss: mapping.outbound !== undefined });
  if (inbound.plan === undefined || mapping.outbound === undefined) return { file, ok: !inbound.issues.some(isError), issues: inbound.issues };
  // Written back as it would be sent at `at`, or else when the sample's plan version was recorded.
  const outbound = translateOutbound(mapping, inbound.plan, { at: at ?? new Date(inbound.plan.updatedAt) });
  const issues = [...inbound.issues, ...outbound.issues];
  return { file, ok: !issues.some(isError), issues };
}

/** Checks the mapping in `folder` and all its samples; `at` is the moment outbound sends are judged. */
export async function checkMappingFolder(folder: string, at?: Date): Promise<MappingCheck> {
  let mapping: Mapping;
  try {
    mapping = await loadMapping(folder);
  } catch (error) {
    if (error instanceof MappingLoadError) return { ok: false, issues: error.issues, samples: [] };
    throw error;
  }
  const issues = checkValueMaps(mapping);
  const files = await sampleFiles(folder, mapping.document.format);
  if (files.length === 0) {
    issues.push({ severity: 'warning', code: 'mapping.no-samples', file: mapping.file, message: `no samples/*.${mapping.document.format} to translate` });
  }
  const samples: SampleCheck[] = [];
  for (const file of files) samples.push(await checkSample(mapping, file, at));
  return { ok: !issues.some(isError) && samples.every((sample) => sample.ok), mapping, issues, samples };
}

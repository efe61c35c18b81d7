/**
 * Large `.ndjson` inputs for the streaming tests and `bench/ndjson-memory.ts`: official R4 examples
 * of several types, each line a distinct resource (its id, and a text the validator reads, carry
 * the line number), so that no line repeats an earlier one and a result cache cannot absorb them.
 * Every `invalidEvery`-th line has one known error (an unknown element), so the expected counts are
 * known without running the validator.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { readOfficialExample } from './fhir-validators.js';

/** Official examples that validate with no error (test/validation/official-examples.test.ts). */
const TEMPLATES = ['Patient-example.json', 'Organization-hl7.json', 'CarePlan-example.json', 'Goal-example.json', 'Consent-consent-example-basic.json', 'Practitioner-example.json', 'CareTeam-example.json'];

export interface NdjsonCorpus {
  readonly lines: number;
  /** Lines with one error each (`unknown-element`). */
  readonly invalid: number;
}

/** The resource on line `line` (from 1). */
export function corpusLine(line: number, invalidEvery: number): Record<string, unknown> {
  const template = TEMPLATES[line % TEMPLATES.length] ?? 'Patient-example.json';
  const resource: Record<string, unknown> = { ...readOfficialExampleCached(template) };
  resource.id = `line-${String(line)}`;
  resource.meta = { versionId: String(line) };
  if (invalidEvery > 0 && line % invalidEvery === 0) resource.unknownElement = line;
  return resource;
}

const cache = new Map<string, object>();
function readOfficialExampleCached(name: string): object {
  let value = cache.get(name);
  if (value === undefined) {
    value = readOfficialExample(name);
    cache.set(name, value);
  }
  return value;
}

/** Writes `lines` resources, one a line, with a blank line every 1,000 lines (blank lines are skipped). */
export async function writeNdjsonCorpus(file: string, lines: number, invalidEvery = 0): Promise<NdjsonCorpus> {
  const out = createWriteStream(file);
  let invalid = 0;
  for (let line = 1; line <= lines; line += 1) {
    const resource = corpusLine(line, invalidEvery);
    if ('unknownElement' in resource) invalid += 1;
    const text = `${JSON.stringify(resource)}\n${line % 1000 === 0 ? '\n' : ''}`;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { lines, invalid };
}

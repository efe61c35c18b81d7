/** The valid example plans in `examples/`, parsed. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SipPlan } from '../../src/sip/index.js';
import { parsePlan } from '../../src/sip/index.js';

const EXAMPLES_DIR = 'examples';

export const exampleFiles: readonly string[] = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json')).sort();

export function readExample(file: string): SipPlan {
  const result = parsePlan(JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as unknown);
  if (!result.ok) throw new Error(`${file} does not parse: ${JSON.stringify(result.problems)}`);
  return result.plan;
}

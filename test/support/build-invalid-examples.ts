/**
 * Writes examples/invalid/<rule code>.json (rules of severity error) and
 * examples/warnings/<rule code>.json (severity warning) from the valid examples and
 * test/support/mutations.ts.
 * Run with `npm run examples:invalid` after changing an example or a mutation; a test fails when the
 * committed files differ from what this writes.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { RULES } from '../../src/sip/index.js';
import { MUTATIONS, mutate, type PlanJson } from './mutations.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
export const INVALID_DIR = path.join(EXAMPLES_DIR, 'invalid');
export const WARNINGS_DIR = path.join(EXAMPLES_DIR, 'warnings');

export function readExample(name: string): PlanJson {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, name), 'utf8')) as PlanJson;
}

/** The path (below examples/) and text of every invalid or warning example. */
export function renderInvalidExamples(): { file: string; text: string }[] {
  return MUTATIONS.map((mutation) => ({
    file: path.join(
      RULES.find((rule) => rule.code === mutation.code)?.severity === 'warning' ? 'warnings' : 'invalid',
      `${mutation.code}.json`,
    ),
    text: `${JSON.stringify(mutate(readExample(mutation.base), mutation), null, 2)}\n`,
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rendered = renderInvalidExamples();
  const written = new Set(rendered.map(({ file }) => file));
  for (const dir of ['invalid', 'warnings']) {
    for (const name of readdirSync(path.join(EXAMPLES_DIR, dir)).filter((file) => file.endsWith('.json'))) {
      if (written.has(path.join(dir, name))) continue;
      rmSync(path.join(EXAMPLES_DIR, dir, name));
      process.stdout.write(`removed examples/${dir}/${name} (no rule of that code and severity)\n`);
    }
  }
  for (const { file, text } of rendered) {
    writeFileSync(path.join(EXAMPLES_DIR, file), text);
    process.stdout.write(`wrote examples/${file}\n`);
  }
}

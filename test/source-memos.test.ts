/**
 * No module-level `WeakMap` in src/ but those keyed by objects that live as long as the process.
 *
 * A memo of a request, a read's plan or a stored version kept in a module-level `WeakMap` costs the
 * garbage collector: V8's scavenger treats the value of an entry whose key was alive at one scavenge
 * as live until the scavenge after the key died, and so promotes the values of requests in flight to
 * the old space, where only a Mark-Compact frees them. Under a constant load of FHIR reads that was
 * most of what the scavenges kept and promoted, and their pauses were the reads' p99
 * (docs/performance.md, "Memos on their objects"). Such a memo is kept on its object instead, under a
 * symbol (src/sip/plan-index.ts `INDEX`). A `WeakSet` holds no values and does not promote (measured
 * there too), so it is not counted here.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './support/source-files.js';

/** The module-level WeakMaps allowed, by file and name, and why their keys outlive every request. */
const LONG_LIVED_KEYS: Readonly<Record<string, string>> = {
  'src/validation/type-model.ts jsonNamesOf': 'keyed by the element nodes of the loaded StructureDefinitions, which live as long as the validator',
};

/** `file name` of each `const name = new WeakMap…` at the top level of a module. */
function moduleLevelWeakMaps(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      const { initializer } = declaration;
      if (initializer !== undefined && ts.isNewExpression(initializer) && initializer.expression.getText(source) === 'WeakMap') {
        found.push(`${relative(process.cwd(), path)} ${declaration.name.getText(source)}`);
      }
    }
  }
  return found;
}

describe('memos kept on their objects', () => {
  it('finds a module-level WeakMap where one is written (the scan can fail)', () => {
    expect(moduleLevelWeakMaps('x.ts', 'const memo = new WeakMap<object, string>();\nfunction f() { const local = new WeakMap(); return local; }')).toEqual(['x.ts memo']);
  });

  it('has no module-level WeakMap in src/ but those keyed by objects as long-lived as the process', () => {
    const found = sourceFiles('src').flatMap((path) => moduleLevelWeakMaps(path, readFileSync(path, 'utf8')));
    expect(found.filter((name) => LONG_LIVED_KEYS[name] === undefined)).toEqual([]);
    // The allowed ones are still there: a name that is gone leaves a stale exception behind.
    expect(found.filter((name) => LONG_LIVED_KEYS[name] !== undefined).sort()).toEqual(Object.keys(LONG_LIVED_KEYS).sort());
  });
});

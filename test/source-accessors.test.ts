/**
 * No function that V8 keeps in a hidden class made anew for each request.
 *
 * V8 keeps an accessor's getter and setter in the hidden class (map) of the object that has it, and
 * makes a generator function's `prototype`, and so its generators' map, for each function object.
 * A getter written in an object literal or handed to `Object.defineProperty` as a closure, or a
 * generator function written inside a function that runs per request, thus gave every request's object
 * a map of its own, or a dictionary. Maps live in the old space: each garbage one kept what its
 * functions' closures held (a row, a plan, the whole request) through the next scavenges, which then
 * promoted it. A SIP read promoted 3.3 MB a scavenge and a person search 11.5 MB, against 0.2 for a
 * FHIR read, and their scavenges paused 8–10 ms (docs/performance.md, "An accessor made per object").
 *
 * Such a getter is a class's (on its prototype) or one named function shared by every object; such a
 * generator function is declared once, at a module's top level or once per app. The scan below finds
 * the three forms in src/; the objects the store and the facade make per request are checked in V8
 * itself too (test/support/shared-maps-child.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from './support/source-files.js';

/** The places allowed, by file and what, and why each function is made once, not per request. */
const MADE_ONCE: Readonly<Record<string, string>> = {
  'src/http/query-once.ts descriptor get': "the `query` getter of the app's request prototype, defined once per app (parseQueryOnce)",
  'src/http/fhir-routes.ts generator walkStore': 'declared in fhirRouter, which runs once per app: one function object for every search',
};

/** Whether `node` is inside a function, which may run once per request (at a module's top level it is made once). */
function insideFunction(node: ts.Node): boolean {
  for (let parent = node.parent as ts.Node | undefined; parent !== undefined; parent = parent.parent) if (ts.isFunctionLike(parent)) return true;
  return false;
}

/** `file kind name` of each function that V8 would keep in a map made per object. */
function madePerObject(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const file = relative(process.cwd(), path);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    // `{ get x() { … } }`: a getter (or setter) made with each object the literal makes.
    if ((ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) && ts.isObjectLiteralExpression(node.parent) && insideFunction(node)) {
      found.push(`${file} literal ${node.name.getText(source)}`);
    }
    // `Object.defineProperty(o, k, { get() { … } })` or `{ get: () => … }`: a function written in the descriptor.
    if ((ts.isMethodDeclaration(node) || ts.isPropertyAssignment(node)) && ts.isObjectLiteralExpression(node.parent)) {
      const name = node.name.getText(source);
      const written = ts.isMethodDeclaration(node) || ts.isFunctionExpression(node.initializer) || ts.isArrowFunction(node.initializer);
      if ((name === 'get' || name === 'set') && written && insideFunction(node)) found.push(`${file} descriptor ${name}`);
    }
    // `function* () { … }` or `async function* walk() { … }` inside a function: a new function object, and its generators a new map, each call.
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) && node.asteriskToken !== undefined && insideFunction(node)) {
      found.push(`${file} generator ${node.name?.getText(source) ?? '(anonymous)'}`);
    }
    // A generator method of an object literal: made with each object.
    if (ts.isMethodDeclaration(node) && node.asteriskToken !== undefined && ts.isObjectLiteralExpression(node.parent) && insideFunction(node)) {
      found.push(`${file} generator ${node.name.getText(source)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('functions V8 keeps in a hidden class, made once', () => {
  it('finds each form where one is written (the scan can fail)', () => {
    // Made per call inside a function; made once at a module's top level and in a class.
    const text = [
      'function read(plan) {',
      '  const a = { get plan() { return plan; } };',
      "  Object.defineProperty(a, 'b', { get() { return 2; } });",
      "  Object.defineProperty(a, 'c', { enumerable: true, get: () => 3 });",
      "  Object.defineProperty(a, 'd', { get: shared });",
      '  const walk = (async function* () { yield 1; })();',
      '  return { a, walk, items: { *entries() { yield 1; } } };',
      '}',
      'const once = { get plan() { return 1; }, *check() { yield 1; } };',
      "Object.defineProperty(once, 'e', { get() { return 2; } });",
      'function* topLevel() { yield 1; }',
      'class Walker { *[Symbol.iterator]() { yield 1; } get size() { return 0; } }',
    ].join('\n');
    expect(madePerObject('x.ts', text)).toEqual(['x.ts literal plan', 'x.ts descriptor get', 'x.ts descriptor get', 'x.ts generator (anonymous)', 'x.ts generator entries']);
  });

  it('has none in src/ but those made once per app', () => {
    const found = sourceFiles('src').flatMap((path) => madePerObject(path, readFileSync(path, 'utf8')));
    expect(found.filter((name) => MADE_ONCE[name] === undefined)).toEqual([]);
    // The allowed ones are still there: a name that is gone leaves a stale exception behind.
    expect(found.filter((name) => MADE_ONCE[name] !== undefined).sort()).toEqual(Object.keys(MADE_ONCE).sort());
  });

  it('gives stored versions and FHIR view entries one hidden class with fast properties, where the forms above do not', async () => {
    // V8's %HaveSameMap and %HasFastProperties need --allow-natives-syntax, so the check runs in a node of its own.
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'test/support/shared-maps-child.ts'], { timeout: 25_000 });
    expect(JSON.parse(stdout)).toEqual({ storedVersions: true, viewEntries: true, closureGetters: false, literalGetters: false, generatorsMadeEach: false });
  });
});

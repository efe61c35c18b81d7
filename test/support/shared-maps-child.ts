/**
 * Run by test/source-accessors.test.ts as `node --allow-natives-syntax --import tsx <this file>`:
 * prints, as one JSON line, for objects the store and the FHIR facade make for each request, whether
 * those made for different requests share one hidden class (V8 map) and all have fast properties
 * (not a dictionary) — `true` when both hold:
 *
 * - `storedVersions`: three stored versions of three different plans (`toStored`), before and after
 *   their `plan` was read;
 * - `viewEntries`: the FHIR view entries of one plan mapped twice (`judgedView`), entry by entry;
 * - the controls, made as the code made them before, which must come out `false` or the check cannot
 *   fail: `closureGetters` (a `plan` getter made for each object, as `toStored` did),
 *   `literalGetters` (a getter written in an object literal, as the rules' context and the view's
 *   entries were) and `generatorsMadeEach` (a generator function made for each walk, as the CarePlan
 *   search's was).
 *
 * V8's `%HaveSameMap` and `%HasFastProperties` are only parsed with `--allow-natives-syntax`, so they
 * are compiled from strings here (node:vm) rather than written in TypeScript.
 */
import { runInThisContext } from 'node:vm';
import { judgedView } from '../../src/http/fhir-routes.js';
import { planModelVersion } from '../../src/sip/index.js';
import { toStored, type VersionRow } from '../../src/store/plan-rows.js';
import { exampleFiles, readExample } from './examples.js';

// The parsed-code boundary: a V8 intrinsic, callable only under --allow-natives-syntax.
const haveSameMap = runInThisContext('(a, b) => %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const hasFastProperties = runInThisContext('(a) => %HasFastProperties(a)') as (a: object) => boolean;
/** One map for all, and fast properties in each. */
const alike = (objects: readonly object[]): boolean => objects.length > 1 && objects.every((object) => haveSameMap(object, objects[0] ?? object) && hasFastProperties(object));

const plans = exampleFiles.slice(0, 3).map((file) => readExample(file));
const rowOf = (plan: (typeof plans)[number]): VersionRow => ({
  plan_id: plan.id,
  version: plan.version,
  plan: null,
  document: JSON.stringify(plan),
  model: planModelVersion(),
  recorded_at: '2026-03-01T10:00:00.000Z',
  recorded_by: 'SE2321000180-1000',
});
const stored = plans.map((plan) => toStored(rowOf(plan)));
const storedBeforeRead = alike(stored);
const ids = stored.map((version) => version.plan.id);
const storedVersions = storedBeforeRead && alike(stored) && ids.join() === plans.map((plan) => plan.id).join();

const [first] = plans;
if (first === undefined) throw new Error('no example plan');
const at = new Date('2026-03-02T10:00:00.000Z');
const once = judgedView(toStored(rowOf(first)), at).entries;
const again = judgedView(toStored(rowOf(first)), at).entries;
const viewEntries = once.length > 0 && once.every((entry, index) => alike([entry, again[index] ?? {}]));

const closureGetters = alike(
  plans.map((plan) => {
    const made = {};
    Object.defineProperty(made, 'plan', { enumerable: true, get: () => plan });
    return made;
  }),
);
const literalGetters = alike(
  plans.map((plan) => ({
    get plan() {
      return plan;
    },
  })),
);
const generatorsMadeEach = alike(
  plans.map((plan) =>
    (function* () {
      yield plan;
    })(),
  ),
);

process.stdout.write(`${JSON.stringify({ storedVersions, viewEntries, closureGetters, literalGetters, generatorsMadeEach })}\n`);

/**
 * No reader of a plan's view changes a resource it serves in place. The facade serves a resource it has
 * no kept text of (a Consent, `_include` / `_revinclude`, a type search, a history entry, a
 * transaction's representation) as a shallow copy of its entry's kept facade resource
 * (src/http/derived-view.ts `viewResource`, `PlanEntry.facadeResource`), where the former path served
 * a deep copy: a reader changing a member in place would now change the kept resource, and what the
 * next reader of it answers.
 *
 * Here every facade resource is recorded with its JSON text as the entry first maps it
 * (`planEntries` wrapped, the module mocked, the original called), the real server (PGlite, the
 * examples, a fixed clock) answers each of those reads, with `_summary` and `_elements` too, twice,
 * and every resource recorded must then be as it was mapped.
 *
 * As it was mapped but for one thing: fhirpath.js (5.2.2, src/fhirpath.js, where it "adds a hidden
 * (non-enumerable) property with the path") marks each object an expression returns with a
 * `__path__` property, and the type searches and the search parameters evaluate their expressions
 * on the served resource, whose members are the kept resource's. The mark is not enumerable: no
 * `JSON.stringify`, spread or `Object.entries` sees it, so no answer or kept text changes, and it is
 * set once, never changed, on objects that live as long as the request's view. (Frozen, the kept
 * resources made those searches throw: that is how it was found.) Any other own property, enumerable
 * or not, is a change.
 */
import type { Bundle, CarePlan, FhirResource } from 'fhir/r4.js';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as PlanEntriesModule from '../../src/fhir/write/plan-entries.js';

/** Every facade resource mapped, with its JSON text then. */
const mapped: { readonly resource: FhirResource; readonly text: string }[] = [];

vi.mock('../../src/fhir/write/plan-entries.js', async (importOriginal) => {
  const original = await importOriginal<typeof PlanEntriesModule>();
  const planEntries: typeof original.planEntries = (...args) =>
    original.planEntries(...args).map((planEntry) => {
      let recorded = false;
      return {
        ...planEntry,
        facadeResource: () => {
          const resource = planEntry.facadeResource();
          if (!recorded) mapped.push({ resource, text: JSON.stringify(resource) });
          recorded = true;
          return resource;
        },
      };
    });
  return { ...original, planEntries };
});

/** The paths of the own properties in `value` that no `JSON.stringify` sees, but fhirpath.js's `__path__` marks. */
function hiddenProperties(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const hidden = Object.getOwnPropertyNames(value).filter((name) => name !== '__path__' && !Object.prototype.propertyIsEnumerable.call(value, name) && !(Array.isArray(value) && name === 'length'));
  return [...hidden.map((name) => `${path}.${name}`), ...Object.entries(value).flatMap(([name, member]) => hiddenProperties(member, `${path}.${name}`))];
}

/** Every resource mapped since `from` as it was mapped; how many. */
function expectAsMapped(from: number): number {
  const since = mapped.slice(from);
  for (const { resource, text } of since) {
    expect(JSON.stringify(resource)).toBe(text);
    expect(hiddenProperties(resource), text.slice(0, 80)).toEqual([]);
  }
  return since.length;
}

const { planResourceIds, planToBundle } = await import('../../src/fhir/index.js');
const { startTestServer } = await import('../support/http-server.js');
type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** The adult example's plan; its consent is in force at the test server's clock. */
const PLAN = 'sip-falun-2026-0142';

describe('the facade’s reads leave every kept facade resource as mapped (PGlite)', () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer('pglite', { settings: { loadExamples: true } });
  }, 240_000);

  afterAll(() => test.close());

  const get = (path: string) => request(test.url).get(path).set('Authorization', `Bearer ${test.token}`);
  /** The plan's first resource of a type, by its facade id. */
  const idOf = async (resourceType: string): Promise<string> => {
    const stored = await test.server.store.get(PLAN);
    const found = stored === undefined ? undefined : planResourceIds(stored.plan).find((resource) => resource.resourceType === resourceType);
    if (found === undefined) throw new Error(`no ${resourceType} in ${PLAN}`);
    return found.id;
  };

  it('answers reads, searches with _include / _revinclude, type searches and history, subset or whole, twice alike', async () => {
    const consent = await idOf('Consent');
    const patient = await idOf('Patient');
    const goal = await idOf('Goal');
    const subsets = ['', '_summary=true', '_summary=text', '_summary=data', '_elements=status'];
    const paths = [
      ...subsets.map((subset) => `/fhir/Consent/${consent}?${subset}`),
      ...subsets.map((subset) => `/fhir/CarePlan?identifier=${PLAN}&_include=*&_revinclude=*&${subset}`),
      `/fhir/CarePlan?identifier=${PLAN}&_include=CarePlan:subject&_include=CarePlan:goal&_revinclude=Consent:data&_revinclude=ServiceRequest:based-on`,
      ...subsets.map((subset) => `/fhir/Consent?patient=Patient/${patient}&${subset}`),
      `/fhir/Goal?patient=Patient/${patient}&_include=Goal:subject`,
      `/fhir/Consent/${consent}/_history`,
      `/fhir/Consent/${consent}/_history/1`,
      `/fhir/Consent/${consent}/_history/1?_summary=true`,
      `/fhir/Goal/${goal}/_history/1?_elements=lifecycleStatus`,
    ];
    const from = mapped.length;
    for (const path of paths) {
      const first = await get(path);
      expect(first.status, `${path}: ${first.text.slice(0, 300)}`).toBe(200);
      const second = await get(path).expect(200);
      expect(second.text, path).toBe(first.text);
    }
    expect(expectAsMapped(from)).toBeGreaterThan(paths.length);
  });

  it('answers a transaction with the resources under Prefer: return=representation', async () => {
    const stored = await test.server.store.get(PLAN);
    if (stored === undefined) throw new Error('the example plan is loaded');
    const from = mapped.length;
    const represented = await request(test.url)
      .post('/fhir')
      .set('Authorization', `Bearer ${test.token}`)
      .set('Content-Type', 'application/fhir+json')
      .set('Prefer', 'return=representation')
      .send(JSON.stringify(planToBundle(stored.plan)));
    expect(represented.status, represented.text.slice(0, 300)).toBe(200);
    const entries = (represented.body as Bundle).entry ?? [];
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.every((entry) => entry.resource !== undefined)).toBe(true);
    const carePlan = entries.find((entry) => entry.resource?.resourceType === 'CarePlan')?.resource as CarePlan;
    expect(carePlan).toEqual((await get(`/fhir/CarePlan/${String(carePlan.id)}`).expect(200)).body);
    expect(expectAsMapped(from)).toBeGreaterThan(entries.length);
  });
});

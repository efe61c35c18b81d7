/**
 * Issue #11, done when: "A FHIR client library that nobody here wrote (`fhir-kit-client`) reads
 * /metadata, posts a transaction, reads, searches with `_include`, and `from-fhir` of that searchset
 * gives the plan back." And a history read with `_count`, its next links followed by the client's own
 * paging. The real server on a loopback port (PGlite and PostgreSQL), the Bundle made
 * by the `to-fhir` command and the searchset read by the `from-fhir` command, both run in process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, CapabilityStatement, CarePlan } from 'fhir/r4.js';
import { Client, type FhirResource as ClientResource } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { IDENTIFIER_SYSTEM, fhirNormalForm, planResourceIds } from '../../src/fhir/index.js';
import type { SipPlan } from '../../src/sip/index.js';
import { DRIVERS, NOW, freshPlan, startTestServer, type TestServer } from '../support/http-server.js';

/** What the client answers (its own loose resource type) as the R4 resource it must be. */
function asResource<T extends { resourceType: string }>(value: unknown, resourceType: T['resourceType']): T {
  expect((value as { resourceType?: unknown }).resourceType).toBe(resourceType);
  return value as T;
}

async function cli(argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

describe.each(DRIVERS)('fhir-kit-client against the facade on %s', (_name, driver) => {
  let test: TestServer;
  let folder: string;

  beforeAll(async () => {
    test = await startTestServer(driver);
    folder = mkdtempSync(join(tmpdir(), 'sip-fhir-kit-'));
  }, 60_000);

  afterAll(async () => {
    await test.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('reads /metadata, posts the to-fhir transaction, reads the CarePlan, searches with _include, and from-fhir of the searchset is the plan posted', async () => {
    const client = new Client({ baseUrl: `${test.url}/fhir`, bearerToken: test.token });
    const posted: SipPlan = { ...freshPlan('sip-fhir-kit-2026-0001'), notes: 'Skickad med fhir-kit-client.' };

    const metadata = asResource<CapabilityStatement>(await client.capabilityStatement(), 'CapabilityStatement');
    expect(metadata.rest?.[0]?.interaction?.map((interaction) => interaction.code)).toContain('transaction');

    const planFile = join(folder, 'plan.json');
    writeFileSync(planFile, JSON.stringify(posted));
    const toFhir = await cli(['to-fhir', '--at', NOW.toISOString(), planFile]);
    expect(toFhir.status).toBe(0);
    const transaction = JSON.parse(toFhir.out) as Bundle;

    const answer = asResource<Bundle>(await client.transaction({ body: JSON.parse(toFhir.out) as ClientResource }), 'Bundle');
    expect(answer.type).toBe('transaction-response');
    const carePlanAt = (transaction.entry ?? []).findIndex((entry) => entry.resource?.resourceType === 'CarePlan');
    const location = answer.entry?.[carePlanAt]?.response?.location ?? '';
    expect(location).toMatch(/^CarePlan\/[0-9a-f-]{36}\/_history\/1$/);
    const carePlanId = location.split('/')[1] ?? '';

    const carePlan = asResource<CarePlan>(await client.read({ resourceType: 'CarePlan', id: carePlanId }), 'CarePlan');
    expect(carePlan.identifier).toContainEqual({ system: IDENTIFIER_SYSTEM.sipPlan, value: posted.id });
    expect(carePlan.meta?.versionId).toBe('1');

    const searchset = asResource<Bundle>(await client.search({ resourceType: 'CarePlan', searchParams: { identifier: `${IDENTIFIER_SYSTEM.sipPlan}|${posted.id}`, _include: '*', _revinclude: '*' } }), 'Bundle');
    expect(searchset).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });

    const searchsetFile = join(folder, 'searchset.json');
    writeFileSync(searchsetFile, JSON.stringify(searchset));
    const fromFhir = await cli(['from-fhir', searchsetFile]);
    expect(fromFhir.status).toBe(0);
    const readBack = JSON.parse(fromFhir.out) as SipPlan;

    // What comes back is the plan posted, in the form FHIR carries (birth date from the personnummer),
    // as the adapter recorded it: version 1, recorded at the server's clock.
    const expected: SipPlan = { ...fhirNormalForm(posted), version: 1, updatedAt: NOW.toISOString() };
    expect(Object.keys(readBack).sort()).toEqual(Object.keys(expected).sort());
    for (const field of Object.keys(expected) as (keyof SipPlan)[]) expect(readBack[field], field).toEqual(expected[field]);
    expect(JSON.parse(readFileSync(planFile, 'utf8'))).toEqual(posted);

    // The person's consents by the patient search the CapabilityStatement lists: the ones the searchset above included.
    const patientId = carePlan.subject.reference?.split('/')[1] ?? '';
    const consents = asResource<Bundle>(await client.search({ resourceType: 'Consent', searchParams: { patient: `Patient/${patientId}` } }), 'Bundle');
    const included = (searchset.entry ?? []).filter((entry) => entry.resource?.resourceType === 'Consent').map((entry) => entry.resource?.id);
    expect(included.length).toBeGreaterThan(0);
    expect((consents.entry ?? []).map((entry) => entry.resource?.id).sort()).toEqual(included.sort());
  });

  it('reads a history with _count and follows its next links to the first version, and a previous link back', async () => {
    const client = new Client({ baseUrl: `${test.url}/fhir`, bearerToken: test.token });
    const first: SipPlan = freshPlan('sip-fhir-kit-history');
    await test.server.store.create(first, 'SE2321000180-1000', planResourceIds(first));
    for (let version = 2; version <= 5; version++) {
      const next: SipPlan = { ...first, version, notes: `Version ${String(version)}` };
      await test.server.store.update(next, version - 1, 'SE2321000180-1000', planResourceIds(next));
    }
    const carePlanId = planResourceIds(first).find((resource) => resource.resourceType === 'CarePlan')?.id ?? '';

    const whole = asResource<Bundle>(await client.resourceHistory({ resourceType: 'CarePlan', id: carePlanId }), 'Bundle');
    expect(whole.type).toBe('history');
    expect(whole.entry?.map((entry) => entry.resource?.meta?.versionId)).toEqual(['5', '4', '3', '2', '1']);

    // What the client answers, as the bundle with links its paging takes.
    type Paged = ClientResource & { link: { relation: string; url: string }[] };
    const raw: Paged[] = [(await client.request(`CarePlan/${carePlanId}/_history?_count=2`)) as Paged];
    for (let next = client.nextPage({ bundle: raw[0] as Paged }); next !== undefined; next = client.nextPage({ bundle: raw.at(-1) as Paged })) {
      raw.push((await next) as Paged);
      expect(raw.length).toBeLessThan(10);
    }
    const pages = raw.map((page) => asResource<Bundle>(page, 'Bundle'));
    expect(pages.map((page) => page.entry?.map((entry) => entry.resource?.meta?.versionId))).toEqual([['5', '4'], ['3', '2'], ['1']]);
    expect(pages.at(-1)?.entry?.[0]?.request).toEqual({ method: 'POST', url: 'CarePlan' });
    const back = client.prevPage({ bundle: raw.at(-1) as Paged });
    if (back === undefined) throw new Error('the last page links to the one before');
    expect(asResource<Bundle>(await back, 'Bundle').entry?.map((entry) => entry.resource?.meta?.versionId)).toEqual(['3', '2']);
    expect(client.prevPage({ bundle: raw[0] as Paged })).toBeUndefined();
  });
});

/**
 * SIP → FHIR: every Bundle made from the examples passes two independent base-R4 validators (Medplum's
 * StructureDefinition-driven validator and the official JSON schema through ajv), is deterministic,
 * keeps every entry idempotent on a FHIR server, and carries a readable Swedish narrative.
 */
import { SyntaxValidator } from 'fast-xml-validator';
import type { Bundle, CarePlan, Consent, FhirResource } from 'fhir/r4.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAPPING_OPTIONS, IDENTIFIER_SYSTEM, bundleToPlan, planToBundle } from '../../src/fhir/index.js';
import { exampleFiles, readExample } from '../support/examples.js';
import { errorsOnly, formatIssues, loadJsonSchema, loadMedplum, validateWithJsonSchema, validateWithMedplum } from '../support/fhir-validators.js';


function resources(bundle: Bundle): FhirResource[] {
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource === undefined ? [] : [entry.resource]));
}

beforeAll(() => {
  loadMedplum();
  loadJsonSchema();
}, 60_000);

describe.each(exampleFiles)('the Bundle of %s', (file) => {
  const plan = readExample(file);
  const bundle = planToBundle(plan);

  it('passes Medplum validateResource with no error, entry by entry and as a whole', () => {
    const issues = errorsOnly([bundle, ...resources(bundle)].flatMap((resource) => validateWithMedplum(resource)));
    expect(issues, formatIssues(issues)).toEqual([]);
  });

  it('passes the official R4 JSON schema, entry by entry and as a whole', () => {
    const issues = [bundle, ...resources(bundle)].flatMap((resource) => validateWithJsonSchema(resource));
    expect(issues, formatIssues(issues)).toEqual([]);
  });

  it('is deterministic: the same plan gives the same Bundle, byte for byte', () => {
    expect(JSON.stringify(planToBundle(structuredClone(plan)))).toBe(JSON.stringify(bundle));
  });

  it('gives each entry a unique urn:uuid fullUrl and a conditional request', () => {
    const entries = bundle.entry ?? [];
    const fullUrls = entries.map((entry) => entry.fullUrl);
    expect(new Set(fullUrls).size).toBe(entries.length);
    for (const entry of entries) {
      expect(entry.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const request = entry.request;
      const conditional = request?.method === 'POST' ? request.ifNoneExist : request?.url.split('?')[1];
      expect(conditional, `${entry.resource?.resourceType ?? ''} ${entry.fullUrl ?? ''}`).toMatch(/^(identifier|_tag)=[^|]+\|.+$/);
      if (request?.method === 'PUT') expect(request.url.startsWith(`${entry.resource?.resourceType ?? '?'}?`)).toBe(true);
    }
    const conditions = entries.map((entry) => `${entry.request?.url ?? ''} ${entry.request?.ifNoneExist ?? ''}`);
    expect(new Set(conditions).size).toBe(entries.length);
  });

  it('has a Swedish narrative that is well-formed XHTML in the XHTML namespace, naming every goal and intervention', () => {
    const carePlan = resources(bundle).find((resource): resource is CarePlan => resource.resourceType === 'CarePlan');
    const div = carePlan?.text?.div ?? '';
    expect(carePlan?.text?.status).toBe('generated');
    expect(() => SyntaxValidator.validate(div)).not.toThrow();
    expect(div.startsWith('<div xmlns="http://www.w3.org/1999/xhtml">')).toBe(true);
    expect(div).not.toMatch(/<(script|style|head|body|form|iframe)/);
    const text = div.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'");
    for (const goal of plan.goals.filter((candidate) => candidate.status === 'active')) expect(text).toContain(goal.description);
    for (const intervention of plan.interventions) expect(text).toContain(intervention.description);
    expect(text).toMatch(/Nästa uppföljning: \d{1,2} [a-zåäö]+ \d{4}\.|Ingen uppföljning är planerad\./);
  });
});

describe('identity of shared resources', () => {
  it('keys the same organisation and person to the same fullUrl and condition in two plans', () => {
    const a = planToBundle(readExample('adult-psychiatry-addiction.json'));
    const b = planToBundle({ ...readExample('adult-psychiatry-addiction.json'), id: 'another-plan', version: 2 });
    const shared = (bundle: Bundle) =>
      (bundle.entry ?? []).filter((entry) => entry.request?.method === 'POST' && !(entry.request.ifNoneExist ?? '').includes(IDENTIFIER_SYSTEM.sipEntity));
    expect(shared(a).length).toBeGreaterThan(2);
    expect(shared(b).map((entry) => [entry.fullUrl, entry.request?.ifNoneExist])).toEqual(shared(a).map((entry) => [entry.fullUrl, entry.request?.ifNoneExist]));
    const planOwned = (bundle: Bundle) => (bundle.entry ?? []).filter((entry) => entry.request?.method === 'PUT').map((entry) => entry.fullUrl);
    expect(planOwned(b).some((fullUrl) => planOwned(a).includes(fullUrl))).toBe(false);
  });

  it('escapes markup in people\'s words in the narrative', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const goal = plan.goals[0];
    if (goal === undefined) throw new Error('the example has goals');
    const bundle = planToBundle({ ...plan, goals: [{ ...goal, description: 'Må bättre <script>alert("x")</script> & sova' }, ...plan.goals.slice(1)] });
    const div = resources(bundle).find((resource): resource is CarePlan => resource.resourceType === 'CarePlan')?.text?.div ?? '';
    expect(() => SyntaxValidator.validate(div)).not.toThrow();
    expect(div).toContain('Må bättre &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; sova');
  });

  it('cites the law in force, and the former paragraph for a plan made before 2025-07-01', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const narrativeOf = (initiatedAt: string): string =>
      resources(planToBundle({ ...plan, initiatedAt })).find((resource): resource is CarePlan => resource.resourceType === 'CarePlan')?.text?.div ?? '';
    expect(narrativeOf('2025-07-01')).toContain(
      '<p>Planen upprättas enligt 10 kap. 8–9 §§ socialtjänstlagen (2025:400) och 16 kap. 4 § hälso- och sjukvårdslagen (2017:30).</p>',
    );
    expect(narrativeOf('2025-06-30')).toContain(
      '<p>Planen upprättas enligt 2 kap. 7 § socialtjänstlagen (2001:453), numera 10 kap. 8–9 §§ socialtjänstlagen (2025:400) och 16 kap. 4 § hälso- och sjukvårdslagen (2017:30).</p>',
    );
  });
});

describe('the send time (at)', () => {
  const plan = readExample('adult-psychiatry-addiction.json');
  const sentAt = (at: Date): Bundle => planToBundle(plan, DEFAULT_MAPPING_OPTIONS, at);
  const consentStatus = (bundle: Bundle): Consent['status'] | undefined =>
    resources(bundle).find((resource): resource is Consent => resource.resourceType === 'Consent')?.status;

  it('is the Bundle timestamp, with the Europe/Stockholm offset of that day', () => {
    expect(sentAt(new Date('2026-03-02T08:30:00Z')).timestamp).toBe('2026-03-02T09:30:00+01:00');
    expect(sentAt(new Date('2026-07-15T07:30:00Z')).timestamp).toBe('2026-07-15T09:30:00+02:00');
    // 23:30 UTC is already the next day in Stockholm, and the timestamp says so in its first ten characters.
    expect(sentAt(new Date('2026-12-31T23:30:00Z')).timestamp).toBe('2027-01-01T00:30:00+01:00');
  });

  it('is by default when the plan version was recorded (updatedAt, 2026-03-12T15:20:00+01:00)', () => {
    expect(planToBundle(plan).timestamp).toBe('2026-03-12T15:20:00+01:00');
    expect(planToBundle(plan)).toEqual(sentAt(new Date('2026-03-12T14:20:00Z')));
  });

  it('judges the consent at it: active up to the last day of validUntil (2027-02-11) in Stockholm, inactive after', () => {
    expect(consentStatus(sentAt(new Date('2026-03-12T14:20:00Z')))).toBe('active');
    expect(consentStatus(sentAt(new Date('2027-02-11T23:30:00+01:00')))).toBe('active');
    // 2027-02-11T23:30Z is half past midnight on 12 February in Stockholm: the consent has expired.
    expect(consentStatus(sentAt(new Date('2027-02-11T23:30:00Z')))).toBe('inactive');
    expect(consentStatus(sentAt(new Date('2030-01-01T12:00:00+01:00')))).toBe('inactive');
  });

  it('judges a withdrawn consent at it: active before the withdrawal (2026-02-24T14:05+01:00), inactive from then on', () => {
    const withdrawn = readExample('closed-consent-withdrawn.json');
    const status = (at: string) => consentStatus(planToBundle(withdrawn, DEFAULT_MAPPING_OPTIONS, new Date(at)));
    expect(status('2026-02-24T14:04:59+01:00')).toBe('active');
    expect(status('2026-02-24T14:05:00+01:00')).toBe('inactive');
    expect(consentStatus(planToBundle(withdrawn))).toBe('inactive');
  });

  it('changes nothing but the timestamp and the consent status, with the sentence of the Consent narrative that tells it', () => {
    const recorded = planToBundle(plan);
    const later = sentAt(new Date('2027-06-01T10:00:00+02:00'));
    const consentAt = (bundle: Bundle) => (bundle.entry ?? []).findIndex((entry) => entry.resource?.resourceType === 'Consent');
    expect(later.timestamp).toBe('2027-06-01T10:00:00+02:00');
    expect(consentAt(later)).toBe(consentAt(recorded));
    const restored = structuredClone(later);
    restored.timestamp = recorded.timestamp;
    const consent = restored.entry?.[consentAt(later)]?.resource;
    if (consent?.resourceType !== 'Consent') throw new Error('no Consent');
    expect(consent.status).toBe('inactive');
    consent.status = 'active';
    const div = consent.text?.div ?? '';
    expect(div).toContain('<p>Samtycket har gått ut och gäller inte längre.</p></div>');
    if (consent.text !== undefined) consent.text.div = div.replace('Samtycket har gått ut och gäller inte längre.', 'Samtycket gäller när planen skickas.');
    expect(restored).toEqual(recorded);
  });

  it('is deterministic: the same plan and instant give the same Bundle, byte for byte', () => {
    const at = '2026-10-25T01:30:00Z';
    expect(JSON.stringify(sentAt(new Date(at)))).toBe(JSON.stringify(planToBundle(structuredClone(plan), DEFAULT_MAPPING_OPTIONS, new Date(at))));
  });

  it('is read back without an issue: Bundle.timestamp is no part of the plan and is not reported as unsupported', () => {
    const bundle = sentAt(new Date('2026-07-15T07:30:00Z'));
    expect(bundle.timestamp).toBe('2026-07-15T09:30:00+02:00');
    const result = bundleToPlan(JSON.parse(JSON.stringify(bundle)) as unknown);
    expect(result.ok).toBe(true);
    expect(result.outcome.issue.filter((issue) => issue.severity !== 'information')).toEqual([]);
    expect(JSON.stringify(result.outcome)).not.toContain('timestamp');
  });
});

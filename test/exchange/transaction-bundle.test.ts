/**
 * The transaction Bundle built from the resource texts kept with a version (src/exchange/
 * transaction-bundle.ts) against the full mapping it stands in for: for every example and generated
 * plans, at the version's instant and at others, `transactionBundle` with the texts `derivedVersion`
 * keeps is the very JSON text of `planToBundle` — every entry, its fullUrl, request and resource, and
 * the Consents (never kept) as mapped at the instant given. And where it must not take the shortcut:
 * another mapping's options, texts that are not of the entry, no texts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bundleResourceText, transactionBundleBytes, transactionBundleText, utf8Of, type TransactionBundleText } from '../../src/exchange/transaction-bundle.js';
import { DEFAULT_MAPPING_OPTIONS, planToBundle } from '../../src/fhir/index.js';
import { derivedVersion } from '../../src/http/derived-view.js';
import { parsePlan, withoutExclusionDescriptions, type SipPlan } from '../../src/sip/index.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

const DAY = 86_400_000;

/** What planToBundle gives, as the connector sends it. */
function mapped(plan: SipPlan, options: typeof DEFAULT_MAPPING_OPTIONS, at: Date): TransactionBundleText {
  const bundle = planToBundle(plan, options, at);
  return { text: JSON.stringify(bundle), entries: bundle.entry?.length ?? 0 };
}

/** The bytes the connector sends are the UTF-8 of planToBundle's text (as axios encoded the text before). */
function expectSameBytes(sent: { bytes: Buffer; entries: number }, expected: TransactionBundleText): void {
  expect(sent.entries).toBe(expected.entries);
  expect(sent.bytes.equals(Buffer.from(expected.text, 'utf8'))).toBe(true);
}

/** The Bundle from the kept texts equals planToBundle's, as text, at `at`; returns how many entries came from a text. */
function expectSameBundle(plan: SipPlan, at: Date): number {
  const { texts } = derivedVersion(plan);
  const expected = mapped(plan, DEFAULT_MAPPING_OPTIONS, at);
  expect(transactionBundleText(plan, DEFAULT_MAPPING_OPTIONS, at, texts)).toEqual(expected);
  expectSameBytes(transactionBundleBytes(plan, DEFAULT_MAPPING_OPTIONS, at, texts), expected);
  return texts.length;
}

/**
 * With the texts kept for `plan`, the Bundle of the plan with the consents' exclusion descriptions
 * taken out (what decideSend sends when it removed nothing else: SendDecision.keptTextsHold) equals
 * planToBundle of that plan; returns whether the descriptions changed the plan.
 */
function expectSameWithoutDescriptions(plan: SipPlan, at: Date): boolean {
  const { texts } = derivedVersion(plan);
  const sent = withoutExclusionDescriptions(plan);
  const expected = mapped(sent, DEFAULT_MAPPING_OPTIONS, at);
  expect(transactionBundleText(sent, DEFAULT_MAPPING_OPTIONS, at, texts)).toEqual(expected);
  expectSameBytes(transactionBundleBytes(sent, DEFAULT_MAPPING_OPTIONS, at, texts), expected);
  return sent !== plan;
}

describe('the transaction Bundle from kept resource texts', () => {
  it('is planToBundle’s, to the byte, for every example, at the version’s instant and a year on', () => {
    let fromTexts = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      fromTexts += expectSameBundle(plan, new Date(plan.updatedAt));
      fromTexts += expectSameBundle(plan, new Date(new Date(plan.updatedAt).getTime() + 365 * DAY));
    }
    // Most of each plan comes from the texts, not the mapping.
    expect(fromTexts).toBeGreaterThan(exampleFiles.length * 2 * 10);
  });

  it('is so for generated plans', () => {
    let fromTexts = 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 400 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        fromTexts += expectSameBundle(parsed.plan, new Date(new Date(parsed.plan.updatedAt).getTime() + days * DAY));
      }),
      { numRuns: 150 },
    );
    expect(fromTexts).toBeGreaterThan(0);
  });

  it('is planToBundle’s for the plan without the consents’ exclusion descriptions, from the texts of the plan with them', () => {
    let described = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      if (expectSameWithoutDescriptions(plan, new Date(plan.updatedAt))) described++;
    }
    fc.assert(
      fc.property(mappablePlanArbitrary, fc.integer({ min: -400, max: 400 }), (json, days) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        if (expectSameWithoutDescriptions(parsed.plan, new Date(new Date(parsed.plan.updatedAt).getTime() + days * DAY))) described++;
      }),
      { numRuns: 150 },
    );
    // The adult example's consent describes its exclusion, and so do generated ones.
    expect(described).toBeGreaterThan(1);
    // And the descriptions are in the Bundle of the plan with them (the Consent's narrative): the texts did not hide a difference.
    const adult = readExample('adult-psychiatry-addiction.json');
    const at = new Date(adult.updatedAt);
    expect(transactionBundleText(adult, DEFAULT_MAPPING_OPTIONS, at, derivedVersion(adult).texts).text).not.toEqual(
      transactionBundleText(withoutExclusionDescriptions(adult), DEFAULT_MAPPING_OPTIONS, at, derivedVersion(adult).texts).text,
    );
  });

  it('maps the plan when there are no texts or the options are not those the texts were derived with', () => {
    const plan = readExample(exampleFiles[0] ?? '');
    const at = new Date(plan.updatedAt);
    const { texts } = derivedVersion(plan);
    // Texts that say something else would show if they were used.
    const altered = texts.map((text) => ({ ...text, tail: text.tail.replace(/}$/, ',"language":"x-altered"}') }));
    expect(transactionBundleText(plan, DEFAULT_MAPPING_OPTIONS, at, altered).text).toContain('x-altered');
    const options = { ...DEFAULT_MAPPING_OPTIONS };
    expect(transactionBundleText(plan, options, at, altered)).toEqual(mapped(plan, options, at));
    expect(transactionBundleText(plan, DEFAULT_MAPPING_OPTIONS, at, [])).toEqual(mapped(plan, DEFAULT_MAPPING_OPTIONS, at));
    expect(transactionBundleText(plan, DEFAULT_MAPPING_OPTIONS, at, undefined)).toEqual(mapped(plan, DEFAULT_MAPPING_OPTIONS, at));
  });

  it('does not take a text that is not of the entry it is filed under', () => {
    const plan = readExample(exampleFiles[0] ?? '');
    const [first] = derivedVersion(plan).texts;
    if (first === undefined) throw new Error('no text');
    expect(bundleResourceText(first, new Map())).toBeDefined();
    expect(bundleResourceText({ ...first, id: 'another-id' }, new Map())).toBeUndefined();
    expect(bundleResourceText({ ...first, resourceType: 'Basic' }, new Map())).toBeUndefined();
    // Not split where derived-view.ts splits (at the end of meta): not taken.
    expect(bundleResourceText({ ...first, tail: `x${first.tail}` }, new Map())).toBeUndefined();
    expect(bundleResourceText({ ...first, head: `${first.head}"x":1` }, new Map())).toBeUndefined();
    // A text filed under another resource of the plan is mapped instead.
    const { texts } = derivedVersion(plan);
    const swapped = texts.map((text, index) => ({ ...text, id: texts[(index + 1) % texts.length]?.id ?? text.id }));
    const at = new Date(plan.updatedAt);
    expect(transactionBundleText(plan, DEFAULT_MAPPING_OPTIONS, at, swapped)).toEqual(mapped(plan, DEFAULT_MAPPING_OPTIONS, at));
  });

  it('rewrites references as the start’s regular expression did, over the examples’ texts and texts made to be awkward', () => {
    let compared = 0;
    for (const file of exampleFiles) {
      const plan = readExample(file);
      const { texts } = derivedVersion(plan);
      // Every entry's `Type/id` to a fullUrl, as transactionBundleText's map has them.
      const fullUrls = new Map(texts.map((text) => [`${text.resourceType}/${text.id}`, `urn:uuid:${text.id}`]));
      for (const text of texts) {
        expect(bundleResourceText(text, fullUrls)).toBe(bundleResourceTextAsBefore(text, fullUrls));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(exampleFiles.length * 10);
    // Values with escapes, names of no entry, a reference in meta, one never closed, empty and adjacent
    // ones, and a key cut in two (which the resource's opening and its tail can put together).
    const fragment = fc.constantFrom(
      'reference":"Goal/g1"',
      '"refer',
      'ence":"Goal/g1"',
      '"reference":"Goal/g1"',
      '"reference":"Goal/unknown"',
      '"reference":"Goal\\/g1"',
      '"reference":"a\\"reference\\":\\"Goal/g1"',
      '"reference":""',
      '"reference":"Goal/g1',
      '"display":"reference"',
      '{',
      '}',
      ',',
      '"x":"\\u0022reference\\u0022"',
      'Goal/g1',
    );
    const fullUrls = new Map([
      ['Goal/g1', 'urn:uuid:1'],
      ['', 'urn:uuid:empty'],
    ]);
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), fc.array(fragment, { maxLength: 12 }), (meta, tail) => {
        const head = `{"resourceType":"Goal","id":"g1","meta":{${meta.length === 0 ? '' : `${meta.join('')},`}`;
        const text = { resourceType: 'Goal', id: 'g1', head, tail: `}${tail.join('')}` };
        expect(bundleResourceText(text, fullUrls)).toBe(bundleResourceTextAsBefore(text, fullUrls));
      }),
      { numRuns: 500 },
    );
  });
});

/** The start's bundleResourceText (src/exchange/transaction-bundle.ts at fa4e519): one regular expression's replace over the resource. */
function bundleResourceTextAsBefore(text: { resourceType: string; id: string; head: string; tail: string }, fullUrls: ReadonlyMap<string, string>): string | undefined {
  const type = `{"resourceType":${JSON.stringify(text.resourceType)}`;
  const opening = `${type},"id":${JSON.stringify(text.id)},"meta":{`;
  if (!text.head.startsWith(opening) || !text.tail.startsWith('}')) return undefined;
  const meta = text.head.slice(opening.length);
  if (meta !== '' && !meta.endsWith(',')) return undefined;
  const resource = `${type}${meta === '' ? '' : `,"meta":{${meta.slice(0, -1)}}`}${text.tail.slice(1)}`;
  return resource.replace(/"reference":"([^"\\]*)"/g, (whole, reference: string) => {
    const fullUrl = fullUrls.get(reference);
    return fullUrl === undefined ? whole : `"reference":${JSON.stringify(fullUrl)}`;
  });
}

describe('utf8Of: the UTF-8 of the parts written in turn into one buffer', () => {
  it('is the UTF-8 of the parts joined, for any parts — characters of every plane, lone surrogates, a pair cut between two parts', () => {
    const part = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom('', 'å', '–', '🧩', '\ud83e', '\udde9', 'a\ud83e', '\udde9b', '"reference":"Goal/g1"'),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 30 }), (parts) => {
        expect(utf8Of(parts).equals(Buffer.from(parts.join(''), 'utf8'))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
    // A pair cut between two parts is one character, four bytes, as in the text joined.
    expect(utf8Of(['x\ud83e', '\udde9y'])).toEqual(Buffer.from('x🧩y', 'utf8'));
    expect(utf8Of([])).toEqual(Buffer.alloc(0));
  });

  it('grows its buffer when the text is far from ASCII (sized for a Bundle that nearly is)', () => {
    const heavy = ['x', '–'.repeat(2_000), 'åäö'.repeat(700), '🧩'.repeat(900), '"reference":"Goal/g1"', '–'];
    for (const parts of [heavy, [...heavy].reverse(), heavy.map((part) => part.repeat(3)), ['a'.repeat(5_000), '–'.repeat(5_000)]]) {
      expect(utf8Of(parts).equals(Buffer.from(parts.join(''), 'utf8'))).toBe(true);
    }
  });

  it('sends the bytes of the text for the adult example with its dashes and åäö, from kept texts and mapped in full', () => {
    const plan = readExample('adult-psychiatry-addiction.json');
    const at = new Date(plan.updatedAt);
    const { texts } = derivedVersion(plan);
    const text = transactionBundleText(plan, DEFAULT_MAPPING_OPTIONS, at, texts).text;
    expect(/[\u0100-\uffff]/.test(text)).toBe(true);
    expect(transactionBundleBytes(plan, DEFAULT_MAPPING_OPTIONS, at, texts).bytes.toString('utf8')).toBe(text);
    expect(transactionBundleBytes(plan, DEFAULT_MAPPING_OPTIONS, at, undefined).bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
  });
});

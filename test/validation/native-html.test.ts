/**
 * txt-1 and txt-2 (`htmlChecks()` on `Narrative.div`) checked natively (src/validation/native.ts)
 * against fhirpath.js evaluating `div.htmlChecks()` on a Narrative: the same verdict on every
 * narrative of the official R4 examples, of the SIP Bundles of every example and of generated plans,
 * and on generated XHTML built from what the rules allow and refuse (elements, attributes, entities,
 * comments, unclosed and stray tags, text outside the root, empty content). The validator with native
 * checks on and off is compared as a whole in native-universal.test.ts, which now covers these too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fc from 'fast-check';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { describe, expect, it } from 'vitest';
import { planToBundle } from '../../src/fhir/index.js';
import { parsePlan } from '../../src/sip/index.js';
import { nativeCheckFor, type NativeCheck } from '../../src/validation/native.js';
import { mappablePlanArbitrary } from '../support/arbitraries.js';
import { exampleFiles, readExample } from '../support/examples.js';

const native: NativeCheck | undefined = nativeCheckFor('htmlChecks()', 'Narrative.div');
const ENV = { resource: {}, rootResource: {} };

/** fhirpath.js's verdict on txt-1/txt-2 for this div: the empty collection passes, as the validator reads it. */
function fhirpathVerdict(div: unknown): boolean {
  const result = fhirpath.evaluate({ status: 'generated', div }, { base: 'Narrative', expression: '`div`.htmlChecks()' }, {}, r4) as unknown[];
  return !(result.length === 1 && result[0] === false);
}

/** The two agree on `div`; returns the verdict. */
function expectSame(div: unknown): boolean {
  const expected = fhirpathVerdict(div);
  const verdict = native?.(div, ENV);
  expect(verdict ?? fhirpathVerdict(div), JSON.stringify(div)).toBe(expected);
  if (typeof div === 'string') expect(verdict).toBeDefined();
  return expected;
}

/** Every `text.div` in a JSON value (resources, contained ones, Bundle entries). */
function divsOf(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) divsOf(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [name, item] of Object.entries(value)) {
      if (name === 'text' && typeof item === 'object' && item !== null && 'div' in item) found.push((item as { div: unknown }).div);
      divsOf(item, found);
    }
  }
  return found;
}

const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

describe('txt-1 and txt-2 natively', () => {
  it('are answered natively only on Narrative.div', () => {
    expect(native).toBeDefined();
    expect(nativeCheckFor('htmlChecks()')).toBeUndefined();
    expect(nativeCheckFor('htmlChecks()', 'Patient.name.text')).toBeUndefined();
  });

  it('agree with fhirpath.js on every narrative of the official R4 examples', () => {
    let failed = 0;
    let compared = 0;
    for (const file of readdirSync(examplesDir).filter((name) => /^[A-Z][A-Za-z]+-.*\.json$/.test(name) && !name.startsWith('StructureDefinition-'))) {
      for (const div of divsOf(JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')))) {
        compared += 1;
        if (!expectSame(div)) failed += 1;
      }
    }
    expect(compared).toBeGreaterThan(500);
    // Some official narratives break the rules (e.g. attributes outside the allow list): both ways are decided.
    expect(failed).toBeGreaterThan(0);
  });

  it('agree with fhirpath.js on the narratives of the SIP Bundles of every example and of generated plans', () => {
    let compared = 0;
    for (const file of exampleFiles) for (const div of divsOf(planToBundle(readExample(file)))) compared += expectSame(div) ? 1 : 0;
    fc.assert(
      fc.property(mappablePlanArbitrary, (json) => {
        const parsed = parsePlan(json);
        if (!parsed.ok) throw new Error(`generated plan does not parse: ${JSON.stringify(parsed.problems)}`);
        for (const div of divsOf(planToBundle(parsed.plan))) compared += expectSame(div) ? 1 : 0;
      }),
      { numRuns: 40 },
    );
    expect(compared).toBeGreaterThan(exampleFiles.length * 20);
  });

  it('agree with fhirpath.js on generated XHTML, valid and not', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'text',
        ' ',
        '\n\t',
        '<p>',
        '</p>',
        '<b>bold</b>',
        '<br/>',
        '<br>',
        '<img src="x.png"/>',
        '<img alt="no src"/>',
        '<span style="color:red">s</span>',
        '<a href="http://example.org">a</a>',
        '<a href="javascript:alert(1)">x</a>',
        '<a name="n">',
        '<script>alert(1)</script>',
        '<iframe src="x"></iframe>',
        '<form>',
        '<p onclick="x()">c</p>',
        '<p class=unquoted>',
        '<p id="a" id="b">',
        '<table><tr><td>c</td></tr></table>',
        '&amp;',
        '&nbsp;',
        '&#x1F600;',
        '&#0;',
        '&unknown;',
        '&',
        '<',
        '>',
        '<!-- comment -->',
        '<![CDATA[x]]>',
        '<?pi x?>',
        '</div>',
        '<div>',
        'å ä ö',
        '\u0001',
        '<h:p xmlns:h="http://www.w3.org/1999/xhtml">p</h:p>',
      ),
      fc.string({ maxLength: 6 }),
    );
    const open = fc.constantFrom('<div xmlns="http://www.w3.org/1999/xhtml">', '<div>', '<div xmlns="http://www.w3.org/1999/xhtml" lang="sv">', ' <div xmlns="http://www.w3.org/1999/xhtml">', '<p>', '', 'x<div xmlns="http://www.w3.org/1999/xhtml">');
    const close = fc.constantFrom('</div>', '</div> ', '', '</div>x', '</p>', '</DIV>');
    let passed = 0;
    let failed = 0;
    fc.assert(
      fc.property(open, fc.array(piece, { maxLength: 8 }), close, (start, body, end) => {
        if (expectSame(`${start}${body.join('')}${end}`)) passed += 1;
        else failed += 1;
      }),
      { numRuns: 2000 },
    );
    for (const odd of [null, 1, true, {}, [], ['<div xmlns="http://www.w3.org/1999/xhtml">x</div>'], '']) expectSame(odd);
    // Not vacuous: both verdicts occur many times.
    expect(passed).toBeGreaterThan(50);
    expect(failed).toBeGreaterThan(50);
  });
});

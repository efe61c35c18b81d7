/**
 * No false positives: every official R4 example of the resource types a SIP uses, and the official
 * transaction Bundle, validates with no error. A failure names the file and its issues.
 */
import { describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validation/index.js';
import { listOfficialExamples, readOfficialExample } from '../support/fhir-validators.js';

const TYPES = ['CarePlan', 'CareTeam', 'Consent', 'Appointment', 'Goal', 'Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'RelatedPerson', 'Task'];

const files = [...listOfficialExamples().filter((file) => TYPES.some((type) => file.startsWith(`${type}-`))), 'Bundle-bundle-transaction.json'];

describe('official R4 examples', () => {
  const validator = createValidator();

  it('the corpus holds the examples the issue names', () => {
    for (const type of TYPES.filter((type) => type !== 'PractitionerRole' && type !== 'Task')) {
      expect(files.some((file) => file.startsWith(`${type}-`)), type).toBe(true);
    }
    expect(files.length).toBeGreaterThan(80);
  });

  it.each(files)('%s validates with no error', (file) => {
    const outcome = validator.validate(readOfficialExample(file));
    const errors = outcome.issue.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    expect(errors.map((issue) => `${issue.details?.coding?.[0]?.code ?? ''} at ${issue.expression?.[0] ?? ''}: ${issue.details?.text ?? ''}`), file).toEqual([]);
  });
});

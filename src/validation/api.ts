/**
 * The validator's contract: what callers (CLI, HTTP, exchange) hand in and get back. Every problem
 * is one `OperationOutcome.issue` with
 * - `severity` and `code` (https://hl7.org/fhir/R4/valueset-issue-type.html),
 * - `details.text`, a human message in English,
 * - `details.coding[0]`: `code` is the rule's key (a constraint key such as `cpl-3` or `sip-cpl-1`,
 *   or one of {@link STRUCTURE_RULES}) and `system` is the canonical URL of the StructureDefinition
 *   the rule comes from (base R4 or a profile in `profiles/`),
 * - `expression[0]`, the FHIRPath of the location with indexes, e.g. `CarePlan.activity[2].detail`
 *   or, inside a Bundle, `Bundle.entry[3].resource.status`.
 */
import type { OperationOutcome } from 'fhir/r4.js';

/** Keys of the checks the validator makes itself while walking a StructureDefinition snapshot. */
export const STRUCTURE_RULES = {
  /** The JSON is not a FHIR resource: not an object, or no known `resourceType`. */
  notAResource: 'not-a-resource',
  /** A property no element definition of the type (or profile) allows. */
  unknownElement: 'unknown-element',
  /** Fewer occurrences than the element's `min`. */
  minCardinality: 'min-cardinality',
  /** More occurrences than the element's `max`, or an array where a single value belongs. */
  maxCardinality: 'max-cardinality',
  /** A JSON value of the wrong type (e.g. a number where a string or an object belongs). */
  invalidType: 'invalid-type',
  /** A primitive whose text does not match its type's regex (e.g. an impossible date). */
  invalidValue: 'invalid-value',
  /** A value that differs from the element's `fixed[x]`. */
  fixedValue: 'fixed-value',
  /** A value that does not contain the element's `pattern[x]`. */
  patternValue: 'pattern-value',
  /** A code outside a required binding's ValueSet. */
  requiredBinding: 'binding-required',
  /** A code outside an extensible binding's ValueSet (a warning). */
  extensibleBinding: 'binding-extensible',
  /** A slice occurs fewer or more times than its cardinality. */
  sliceCardinality: 'slice-cardinality',
  /**
   * A reference inside a Bundle to a `urn:uuid:`/`urn:oid:` that no entry has as its fullUrl: an
   * error in transactions, batches and documents, which must resolve it, a warning elsewhere.
   */
  danglingReference: 'dangling-reference',
  /** `meta.profile` (or `--profile`) names a profile the validator does not have (a warning). */
  unknownProfile: 'unknown-profile',
  /** `meta.profile` (or `--profile`) names a profile of another resource type. */
  profileMismatch: 'profile-mismatch',
  /** A constraint's FHIRPath failed to evaluate on this instance (a warning, the rule is unchecked). */
  constraintFailed: 'constraint-failed',
  /** A Bundle entry with a resource but no `fullUrl`, outside transactions and batches (src/validation/bundle-rules.ts). */
  fullUrlMissing: 'bundle-fullurl-missing',
  /** A `fullUrl` that is not an absolute URI. */
  fullUrlNotAbsolute: 'bundle-fullurl-absolute',
  /** A RESTful `fullUrl` (`…/Type/id`) that disagrees with the entry's resource type or id. */
  fullUrlMismatch: 'bundle-fullurl-id',
  /** Two entries of a Bundle (not a history) that are the same resource: server, type, id and version. */
  duplicateEntry: 'bundle-duplicate-entry',
  /** A repeated `self`/paging link, or a paging link in a Bundle that is not a searchset or history. */
  bundleLink: 'bundle-link',
  /** A document's Composition refers to something that is not an entry of the document. */
  documentReference: 'bundle-document-reference',
  /** A document entry not reached from the Composition by following references (reached only backwards: a warning). */
  documentOrphan: 'bundle-document-orphan',
  /** A searchset Bundle without a `self` link (a warning). */
  searchsetSelf: 'bundle-searchset-self',
  /** A searchset entry without an id, of a type the search did not ask for, or whose `search.mode` does not fit. */
  searchsetEntry: 'bundle-searchset-entry',
} as const;

export type StructureRule = (typeof STRUCTURE_RULES)[keyof typeof STRUCTURE_RULES];

export interface ValidateOptions {
  /**
   * Canonical URLs of profiles the resource must conform to, in addition to those its
   * `meta.profile` claims. For a Bundle they apply to the Bundle itself.
   */
  readonly profiles?: readonly string[];
}

export interface Validator {
  /** Validates one parsed JSON value; never throws for bad input, every problem is an issue. */
  validate(resource: unknown, options?: ValidateOptions): OperationOutcome;
  /** Whether a StructureDefinition with this canonical URL (optionally `|version`) is known. */
  knowsProfile(canonical: string): boolean;
}

/** True when the outcome has an issue of severity `error` or `fatal`. */
export function hasErrors(outcome: OperationOutcome): boolean {
  return outcome.issue.some((issue) => issue.severity === 'error' || issue.severity === 'fatal');
}

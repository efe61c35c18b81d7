/**
 * Five base R4 constraints that fhirpath.js 5.2.2 cannot evaluate as written, each made to run
 * with the meaning the specification gives it (issue #13). Without this they surfaced as
 * `constraint-failed` warnings and were never checked.
 *
 * - **eld-16**, **eld-19**, **eld-20** (https://hl7.org/fhir/R4/elementdefinition.html#invs): their
 *   regular expressions were written for Java's and XML Schema's regex dialect, where `\@`, `\'`,
 *   `\:` are the characters themselves and a lone `]` is literal; fhirpath.js compiles every regex
 *   with JavaScript's `u` flag, which rejects those escapes ("Invalid escape", "Lone quantifier
 *   brackets"). The translation writes the same character sets in a form `u` accepts. eld-19 and
 *   eld-20 are also anchored (`^…$`): they judge the whole element path ("Element names cannot
 *   include some special characters", "Element names should be simple alphanumerics"), and
 *   `matches()` in R4's FHIRPath is true when any part of the string matches, which an unanchored
 *   pattern that accepts one letter makes true of nearly every path. eld-16 is anchored as written.
 * - **tim-9** (https://hl7.org/fhir/R4/datatypes.html#Timing): `when in (…)` needs a single `when`
 *   (https://hl7.org/fhirpath/N1/#in-membership: more than one item on the left is an error), but
 *   `Timing.repeat.when` repeats. The translation asks the question of every `when` — an offset
 *   needs a `when`, and none of them may be C, CM, CD or CV — which for one `when` is the
 *   expression as written.
 * - **ras-1** (https://hl7.org/fhir/R4/riskassessment.html#invs) sits on `probability[x]`, a
 *   decimal or a Range; fhirpath.js throws ("ctx.getDecimal is not a function") when the element an
 *   expression starts from is a JSON number, whatever the expression. The rule is about a Range's
 *   `low` and `high`, which a decimal does not have, so on a decimal it holds; on a Range it is
 *   evaluated as written.
 *
 * Each is looked up by the exact R4 expression, so a profile's own wording is evaluated as written.
 * test/validation/repaired-constraints.test.ts checks that the keys are the R4 texts, and each
 * repaired rule on failing and passing data, including every official example StructureDefinition.
 */

export interface RepairedConstraint {
  readonly key: string;
  /** The expression as the R4 StructureDefinition writes it. */
  readonly written: string;
  /** What is evaluated instead, or a verdict for a JSON shape fhirpath.js cannot start from. */
  readonly repair: { readonly expression: string } | { readonly verdict: (node: unknown) => boolean | undefined };
}

export const REPAIRED_CONSTRAINTS: readonly RepairedConstraint[] = [
  {
    key: 'eld-16',
    written: String.raw`sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\/\\-_\\[\\]\\@]+$')`,
    repair: { expression: String.raw`sliceName.empty() or sliceName.matches('^[a-zA-Z0-9\\/\\-_\\[\\]@]+$')` },
  },
  {
    key: 'eld-19',
    written: String.raw`path.matches('[^\\s\\.,:;\\\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\\\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(\\:[^\\s\\.]+)?)*')`,
    repair: { expression: String.raw`path.matches('^[^\\s\\.,:;\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\'"\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(:[^\\s\\.]+)?)*$')` },
  },
  {
    key: 'eld-20',
    written: String.raw`path.matches('[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x])?)*')`,
    repair: { expression: String.raw`path.matches('^[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x\\])?)*$')` },
  },
  {
    key: 'tim-9',
    written: "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))",
    repair: { expression: "offset.empty() or (when.exists() and when.where($this in ('C' | 'CM' | 'CD' | 'CV')).empty())" },
  },
  {
    key: 'ras-1',
    written: "(low.empty() or ((low.code = '%') and (low.system = %ucum))) and (high.empty() or ((high.code = '%') and (high.system = %ucum)))",
    repair: { verdict: (node) => (typeof node === 'number' ? true : undefined) },
  },
];

const BY_EXPRESSION: ReadonlyMap<string, RepairedConstraint['repair']> = new Map(REPAIRED_CONSTRAINTS.map((constraint) => [constraint.written, constraint.repair]));

/** The repair of a constraint's expression as written, if it has one (`InvariantEngine.prepare` applies it). */
export function repairOf(expression: string): RepairedConstraint['repair'] | undefined {
  return BY_EXPRESSION.get(expression);
}

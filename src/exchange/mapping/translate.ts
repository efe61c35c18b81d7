/**
 * The library API of mappings (issue #12): a system's document → SIP plan, and a SIP plan → the
 * system's document, each checked against the SIP model and its rules. Toward a receiver (`at`
 * given) the plan is judged as `to-fhir` judges it: consent at the moment the data leaves
 * (`judgeSend`). What the other side has no place for is reported, never dropped silently.
 */
import { checkPlan, judgeSend, parsePlan, type Problem, type SipPlan } from '../../sip/index.js';
import type { Mapping } from './compile.js';
import { declaredReason, lostPointers } from './loss.js';
import { runRules, xmlPathOf, type InputIndex, type TraceEntry } from './run.js';
import { objectIndex, readSource } from './source.js';
import { isError, type JsonValue, type MappingIssue, type SourceLocation } from './types.js';
import { readXml, writeXml } from './xml.js';

export interface TranslateOptions {
  /**
   * The moment the data leaves toward a receiver: the plan is judged as at sending (`judgeSend`),
   * its consent at this instant. Without it the plan is checked as `sip-fhir check` does, at the
   * instant its version was recorded.
   */
  readonly at?: Date;
  /** Report what the other side has no place for, by translating the result back (default true). */
  readonly reportLoss?: boolean;
}

/**
 * Options of an outbound translation, which is data leaving the adapter: the moment it leaves is
 * required, and the plan is judged at it (`judgeSend`: consent in force then, covering the
 * principals) — never at the moment the version was recorded.
 */
export interface OutboundOptions {
  readonly at: Date;
  /** Report what the other side has no place for, by translating the result back (default true). */
  readonly reportLoss?: boolean;
}

export interface InboundResult {
  /** The plan, when it came out valid and passes the rules (warnings allowed). */
  readonly plan?: SipPlan;
  readonly issues: readonly MappingIssue[];
}

export interface OutboundResult {
  /** The system's document as text (JSON or XML), when the plan could be written. */
  readonly text?: string;
  /** The same document as JSON (for XML: before it was written, under the XML convention). */
  readonly document?: JsonValue;
  readonly issues: readonly MappingIssue[];
}

/** The rule and source behind a plan pointer: the deepest traced prefix, then the rest of the path. */
function traceOf(trace: ReadonlyMap<string, TraceEntry>, pointer: string): { rule?: string; source?: SourceLocation } {
  const segments = pointer.split('/');
  for (let length = segments.length; length >= 1; length -= 1) {
    const entry = trace.get(segments.slice(0, length).join('/'));
    if (entry === undefined) continue;
    const rest = segments
      .slice(length)
      .filter((segment) => !/^\d+$/.test(segment))
      .map((segment) => `.${segment}`)
      .join('');
    return { rule: `${entry.rule}${rest}`, source: entry.source };
  }
  return {};
}

function fromProblem(mapping: Mapping, problem: Problem, trace: ReadonlyMap<string, TraceEntry>, index?: InputIndex): MappingIssue {
  const { rule, source: traced } = traceOf(trace, problem.pointer);
  const line = traced?.pointer === undefined ? undefined : index?.lineOf(undefined, traced.pointer);
  const source = traced === undefined || line === undefined ? traced : { ...traced, line };
  return {
    severity: problem.severity,
    code: problem.code,
    message: problem.message,
    file: mapping.file,
    planPointer: problem.pointer,
    ...(rule === undefined ? {} : { rule }),
    ...(source === undefined ? {} : { source }),
  };
}

/** The plan's rules: judged for sending at `at`, or checked at its own version's instant. */
function ruleProblems(plan: SipPlan, at: Date | undefined): Problem[] {
  return at === undefined ? checkPlan(plan) : judgeSend(plan, at);
}

interface Built {
  readonly plan?: SipPlan;
  readonly document?: unknown;
  readonly index?: InputIndex;
  readonly trace?: ReadonlyMap<string, TraceEntry>;
  readonly issues: MappingIssue[];
}

/** Source text → plan that passed the SIP model (rules not yet applied). */
function buildPlan(mapping: Mapping, sourceText: string): Built {
  const read = readSource(mapping, sourceText);
  if (!read.ok) return { issues: read.issues.map((issue) => ({ ...issue, file: mapping.file })) };
  const run = runRules(mapping, mapping.inbound, 'inbound', read.document, read.index);
  if (run.issues.some(isError)) return { issues: run.issues };
  const parsed = parsePlan(run.value ?? {});
  if (!parsed.ok) return { issues: [...run.issues, ...parsed.problems.map((problem) => fromProblem(mapping, problem, run.trace, read.index))] };
  return { plan: parsed.plan, document: read.document, index: read.index, trace: run.trace, issues: [...run.issues] };
}

/** Plan → the system's document as JSON (rules not applied). */
function buildDocument(mapping: Mapping, plan: SipPlan): { document?: JsonValue; issues: MappingIssue[] } {
  if (mapping.outbound === undefined) {
    return { issues: [{ severity: 'error', code: 'mapping.no-outbound', file: mapping.file, rule: 'outbound', message: `the mapping "${mapping.name}" has no outbound template: plans cannot be written in its format` }] };
  }
  const run = runRules(mapping, mapping.outbound, 'outbound', plan, objectIndex(plan));
  if (run.issues.some(isError)) return { issues: run.issues };
  return { document: run.value ?? {}, issues: run.issues };
}

function writeDocument(mapping: Mapping, document: JsonValue): string {
  return mapping.document.format === 'xml' ? writeXml(document, mapping.document.xml?.declaration ?? true) : `${JSON.stringify(document, null, 2)}\n`;
}

/** The written document as the inbound side reads it (for XML: through text, as a receiver would). */
function asRead(mapping: Mapping, document: JsonValue): unknown {
  if (mapping.document.format !== 'xml') return document;
  const read = readXml(writeDocument(mapping, document), mapping.document.xml?.alwaysArray ?? []);
  return read.ok ? read.value : undefined;
}

/** Source fields that do not come back from the plan, each a warning; declared ones grouped with their reason. */
function inboundLoss(mapping: Mapping, built: Built): MappingIssue[] {
  if (built.plan === undefined || mapping.outbound === undefined) return [];
  const back = buildDocument(mapping, built.plan);
  if (back.document === undefined) {
    const first = back.issues.find(isError);
    return [{ severity: 'warning', code: 'mapping.loss-not-checked', file: mapping.file, rule: 'outbound', message: `what the SIP cannot carry was not checked: writing the plan back failed (${first?.code ?? ''}: ${first?.message ?? ''})` }];
  }
  const lost = lostPointers(built.document, asRead(mapping, back.document));
  const notCarried = mapping.document.roundTrip?.notCarried ?? [];
  const declared = new Map<string, string[]>();
  const issues: MappingIssue[] = [];
  const locate = (pointer: string): SourceLocation => (built.index?.xml === true ? { pointer, xmlPath: xmlPathOf(pointer) } : { pointer });
  for (const pointer of lost) {
    const reason = declaredReason(notCarried, pointer);
    if (reason === undefined) {
      issues.push({ severity: 'warning', code: 'mapping.not-carried', file: mapping.file, source: locate(pointer), message: 'the SIP plan has no place for this value, and the mapping does not declare it in roundTrip.notCarried' });
    } else declared.set(reason.pointer, [...(declared.get(reason.pointer) ?? []), pointer]);
  }
  for (const [pattern, pointers] of declared) {
    const reason = notCarried.find((entry) => entry.pointer === pattern)?.reason ?? '';
    const [first = pattern] = pointers;
    issues.push({
      severity: 'warning',
      code: 'mapping.not-carried',
      file: mapping.file,
      rule: `roundTrip.notCarried ${pattern}`,
      source: locate(first),
      message: `${String(pointers.length)} value${pointers.length === 1 ? '' : 's'} at ${pattern} not carried into the SIP: ${reason}`,
    });
  }
  return issues;
}

/**
 * A document of the mapping's system → a SIP plan, checked against the SIP model and its rules (at
 * `options.at` as a send, when given). Every issue names the mapping file, the rule and the source
 * location; the plan is returned only when no issue is an error.
 */
export function translateInbound(mapping: Mapping, sourceText: string, options: TranslateOptions = {}): InboundResult {
  const built = buildPlan(mapping, sourceText);
  if (built.plan === undefined) return { issues: built.issues };
  const plan = built.plan;
  const trace = built.trace ?? new Map<string, TraceEntry>();
  const problems = ruleProblems(plan, options.at).map((problem) => fromProblem(mapping, problem, trace, built.index));
  const loss = options.reportLoss === false ? [] : inboundLoss(mapping, built);
  const issues = [...built.issues, ...problems, ...loss];
  return issues.some(isError) ? { issues } : { plan, issues };
}

/**
 * A SIP plan → a document of the mapping's system, after the plan passes the SIP rules judged at
 * `options.at` as a send. SIP fields the format has no place for are reported by their plan pointer.
 */
export function translateOutbound(mapping: Mapping, plan: SipPlan, options: OutboundOptions): OutboundResult {
  const problems: MappingIssue[] = ruleProblems(plan, options.at).map((problem) => ({
    severity: problem.severity,
    code: problem.code,
    message: problem.message,
    planPointer: problem.pointer,
  }));
  if (problems.some(isError)) return { issues: problems };
  const built = buildDocument(mapping, plan);
  if (built.document === undefined) return { issues: [...problems, ...built.issues] };
  const text = writeDocument(mapping, built.document);
  const issues = [...problems, ...built.issues];
  if (options.reportLoss !== false) {
    const back = buildPlan(mapping, text);
    if (back.plan === undefined) {
      const first = back.issues.find(isError);
      issues.push({ severity: 'warning', code: 'mapping.loss-not-checked', file: mapping.file, rule: 'inbound', message: `what the format cannot carry was not checked: reading the document back failed (${first?.code ?? ''}: ${first?.message ?? ''})` });
    } else {
      for (const pointer of lostPointers(plan, back.plan)) {
        issues.push({ severity: 'warning', code: 'mapping.not-carried', file: mapping.file, planPointer: pointer, message: `the format of "${mapping.name}" has no place for this value of the plan` });
      }
    }
  }
  return { text, document: built.document, issues };
}

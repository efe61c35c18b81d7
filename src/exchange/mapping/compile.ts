/**
 * Loading a mapping: `mapping.json` is checked against mappings/mapping.schema.json (ajv, JSON
 * Schema 2020-12), then every expression is compiled and every `$map` and `$date` resolved, up
 * front, so a broken mapping is refused whole with every problem named by file and rule path,
 * before any document is translated with it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { compileExpression, ExpressionError, type Expression } from './expressions.js';
import { hasOffset, hasTime, ISO_FORMAT } from './dates.js';
import type { ConstRule, DateFormat, EachRule, JsonValue, MappingDocument, MappingIssue, RuleNode, ValueMapDefinition, ValueRule, ValueType } from './types.js';

/** mappings/mapping.schema.json, which ships with the package beside the mappings. */
export const MAPPING_SCHEMA_FILE = fileURLToPath(new URL('../../../mappings/mapping.schema.json', import.meta.url));

/** A rule, ready to run; `rule` is its path in the mapping (`inbound.goals[].description`). */
export type CompiledRule =
  | {
      readonly kind: 'value';
      readonly rule: string;
      readonly expression: Expression;
      readonly map?: string;
      readonly date?: DateFormat | typeof ISO_FORMAT;
      readonly as?: ValueType;
      readonly fallback?: JsonValue;
      readonly when?: Expression;
    }
  | { readonly kind: 'each'; readonly rule: string; readonly expression: Expression; readonly item: CompiledRule; readonly when?: Expression }
  | { readonly kind: 'const'; readonly rule: string; readonly value: JsonValue; readonly when?: Expression }
  | { readonly kind: 'object'; readonly rule: string; readonly fields: readonly (readonly [string, CompiledRule])[]; readonly when?: Expression }
  | { readonly kind: 'array'; readonly rule: string; readonly items: readonly CompiledRule[] };

type Scalar = string | number | boolean;

/** A value map both ways; `reverse` keys are the SIP values as JSON text. */
export interface ValueMap {
  readonly name: string;
  readonly definition: ValueMapDefinition;
  readonly forward: ReadonlyMap<string, Scalar>;
  readonly reverse: ReadonlyMap<string, Scalar>;
  /** SIP values several source codes map to, with no `reverse` entry choosing one. */
  readonly ambiguous: readonly string[];
}

/** A mapping that passed the schema and compiled. */
export interface Mapping {
  readonly name: string;
  /** The mapping file, as given (for messages). */
  readonly file: string;
  /** The mapping's folder, when loaded from one. */
  readonly folder?: string;
  readonly document: MappingDocument;
  readonly inbound: CompiledRule;
  readonly outbound?: CompiledRule;
  readonly valueMaps: ReadonlyMap<string, ValueMap>;
}

export type CompileResult = { ok: true; mapping: Mapping } | { ok: false; issues: MappingIssue[] };

/** Raised by `loadMapping` for a mapping that cannot be used; `issues` says every reason. */
export class MappingLoadError extends Error {
  override readonly name = 'MappingLoadError';
  readonly issues: readonly MappingIssue[];

  constructor(file: string, issues: readonly MappingIssue[]) {
    super(`${file}: ${String(issues.length)} problem${issues.length === 1 ? '' : 's'} in the mapping`);
    this.issues = issues;
  }
}

let validator: ((value: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;

async function schemaValidator(): Promise<NonNullable<typeof validator>> {
  if (validator === undefined) {
    const schema = JSON.parse(await readFile(MAPPING_SCHEMA_FILE, 'utf8')) as object;
    validator = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
  }
  return validator;
}

/**
 * The schema's complaints, one per place. The `if`/`then` chain that tells a rule's form adds
 * "must match then/else schema" above each real error; those say nothing more and are left out.
 */
function schemaIssues(errors: readonly ErrorObject[], file: string): MappingIssue[] {
  const seen = new Set<string>();
  return errors
    .filter((error) => error.keyword !== 'if')
    .map((error) => {
      const extra = error.keyword === 'additionalProperties' ? ` ("${String((error.params as { additionalProperty?: string }).additionalProperty)}")` : '';
      const allowed = error.keyword === 'enum' ? `: ${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).map((value) => JSON.stringify(value)).join(', ')}` : '';
      return { severity: 'error' as const, code: 'mapping.schema', file, rule: pointerToRule(error.instancePath), message: `${error.message ?? 'is invalid'}${extra}${allowed}` };
    })
    .filter((issue) => {
      const key = `${issue.rule}|${issue.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** A JSON pointer into mapping.json as a rule path: `/inbound/goals/$item/id` → `inbound.goals.$item.id`. */
function pointerToRule(pointer: string): string {
  if (pointer === '') return '(mapping)';
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join('');
}

function compileValueMaps(document: MappingDocument, file: string, issues: MappingIssue[]): Map<string, ValueMap> {
  const maps = new Map<string, ValueMap>();
  for (const [name, definition] of Object.entries(document.valueMaps ?? {})) {
    const forward = new Map(Object.entries(definition.entries));
    const reverse = new Map<string, Scalar>();
    const ambiguous: string[] = [];
    for (const [code, value] of forward) {
      const key = JSON.stringify(value);
      if (reverse.has(key) && definition.reverse?.[String(value)] === undefined) ambiguous.push(String(value));
      if (!reverse.has(key)) reverse.set(key, code);
    }
    for (const [value, code] of Object.entries(definition.reverse ?? {})) {
      // A reverse key is the SIP value as written; booleans and numbers are written as their text.
      const typed = [...forward.values()].find((candidate) => String(candidate) === value) ?? value;
      reverse.set(JSON.stringify(typed), code);
    }
    for (const value of ambiguous) {
      issues.push({
        severity: 'error',
        code: 'mapping.value-map-ambiguous',
        file,
        rule: `valueMaps.${name}`,
        message: `several codes map to ${JSON.stringify(value)}; say in "reverse" which one outbound writes`,
      });
    }
    maps.set(name, { name, definition, forward, reverse, ambiguous });
  }
  return maps;
}

interface Compiler {
  readonly file: string;
  readonly document: MappingDocument;
  readonly valueMaps: ReadonlyMap<string, ValueMap>;
  readonly issues: MappingIssue[];
}

function expressionAt(compiler: Compiler, text: string, rule: string): Expression {
  try {
    return compileExpression(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    compiler.issues.push({ severity: 'error', code: 'mapping.expression', file: compiler.file, rule, message: `\`${text}\` does not compile: ${error.message}` });
    return { text, evaluate: () => [] };
  }
}

function dateFormatAt(compiler: Compiler, name: string, rule: string): DateFormat | typeof ISO_FORMAT | undefined {
  if (name === ISO_FORMAT) return ISO_FORMAT;
  const format = compiler.document.dates?.[name];
  if (format === undefined) {
    compiler.issues.push({ severity: 'error', code: 'mapping.unknown-date-format', file: compiler.file, rule, message: `no date format "${name}" in "dates"` });
  }
  return format;
}

const isObject = (node: RuleNode): node is Readonly<Record<string, RuleNode>> => typeof node === 'object' && !Array.isArray(node);

function compileRule(compiler: Compiler, node: RuleNode, rule: string): CompiledRule {
  if (typeof node === 'string') return { kind: 'value', rule, expression: expressionAt(compiler, node, rule) };
  if (Array.isArray(node)) {
    return { kind: 'array', rule, items: (node as readonly RuleNode[]).map((item, index) => compileRule(compiler, item, `${rule}[${String(index)}]`)) };
  }
  if (!isObject(node)) throw new TypeError(`${rule}: not a rule`);
  const when = typeof node.$when === 'string' ? expressionAt(compiler, node.$when, `${rule}.$when`) : undefined;
  const withWhen = <T extends object>(compiled: T): T => (when === undefined ? compiled : { ...compiled, when });
  if ('$path' in node) {
    const value = node as unknown as ValueRule;
    if (value.$map !== undefined && !compiler.valueMaps.has(value.$map)) {
      compiler.issues.push({ severity: 'error', code: 'mapping.unknown-value-map', file: compiler.file, rule: `${rule}.$map`, message: `no value map "${value.$map}" in "valueMaps"` });
    }
    const date = value.$date === undefined ? undefined : dateFormatAt(compiler, value.$date, `${rule}.$date`);
    return withWhen({
      kind: 'value' as const,
      rule,
      expression: expressionAt(compiler, value.$path, `${rule}.$path`),
      ...(value.$map === undefined ? {} : { map: value.$map }),
      ...(date === undefined ? {} : { date }),
      ...(value.$as === undefined ? {} : { as: value.$as }),
      ...(value.$default === undefined ? {} : { fallback: value.$default }),
    });
  }
  if ('$each' in node) {
    const each = node as unknown as EachRule;
    return withWhen({ kind: 'each' as const, rule, expression: expressionAt(compiler, each.$each, `${rule}.$each`), item: compileRule(compiler, each.$item, `${rule}[]`) });
  }
  if ('$const' in node) return withWhen({ kind: 'const' as const, rule, value: (node as unknown as ConstRule).$const });
  const fields = Object.entries(node)
    .filter(([key]) => key !== '$when')
    .map(([key, child]) => [key, compileRule(compiler, child, `${rule}.${key}`)] as const);
  return withWhen({ kind: 'object' as const, rule, fields });
}

/** Date formats with a local time and no zone would be guessed: refused. */
function checkDateFormats(compiler: Compiler): void {
  for (const [name, format] of Object.entries(compiler.document.dates ?? {})) {
    if (hasTime(format.pattern) && !hasOffset(format.pattern) && format.timeZone === undefined) {
      compiler.issues.push({ severity: 'error', code: 'mapping.date-without-zone', file: compiler.file, rule: `dates.${name}`, message: `"${format.pattern}" has a time of day but no offset: name its "timeZone" (e.g. Europe/Stockholm)` });
    }
    if (format.timeZone !== undefined && !isTimeZone(format.timeZone)) {
      compiler.issues.push({ severity: 'error', code: 'mapping.unknown-time-zone', file: compiler.file, rule: `dates.${name}.timeZone`, message: `"${format.timeZone}" is not an IANA time zone` });
    }
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Compiles parsed `mapping.json` (from `file`); `folderName`, when given, must be its `name`. */
export async function compileMapping(json: unknown, file: string, folderName?: string): Promise<CompileResult> {
  const validate = await schemaValidator();
  if (!validate(json)) return { ok: false, issues: schemaIssues(validate.errors ?? [], file) };
  const document = json as MappingDocument;
  const issues: MappingIssue[] = [];
  if (folderName !== undefined && folderName !== document.name) {
    issues.push({ severity: 'error', code: 'mapping.name-mismatch', file, rule: 'name', message: `the mapping is named "${document.name}" but its folder "${folderName}"` });
  }
  const valueMaps = compileValueMaps(document, file, issues);
  const compiler: Compiler = { file, document, valueMaps, issues };
  checkDateFormats(compiler);
  const inbound = compileRule(compiler, document.inbound, 'inbound');
  const outbound = document.outbound === undefined ? undefined : compileRule(compiler, document.outbound, 'outbound');
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, mapping: { name: document.name, file, document, inbound, ...(outbound === undefined ? {} : { outbound }), valueMaps } };
}

/** The mapping file of a folder. */
export const MAPPING_FILE = 'mapping.json';

/**
 * Loads `folder/mapping.json`: reads it, checks it against the schema, compiles every expression.
 * Throws `MappingLoadError` with every problem when it cannot be used.
 */
export async function loadMapping(folder: string): Promise<Mapping> {
  const file = path.join(folder, MAPPING_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MappingLoadError(file, [{ severity: 'error', code: 'mapping.unreadable', file, message: `cannot read the mapping: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MappingLoadError(file, [{ severity: 'error', code: 'mapping.malformed', file, message: `not JSON: ${(error as Error).message}` }]);
  }
  const result = await compileMapping(json, file, path.basename(path.resolve(folder)));
  if (!result.ok) throw new MappingLoadError(file, result.issues);
  return { ...result.mapping, folder };
}

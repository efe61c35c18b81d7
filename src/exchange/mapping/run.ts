/**
 * Running a compiled rule tree over a document: the source inbound, the plan outbound. Every value
 * written is traced to the rule that wrote it and the place it was read, so a problem the SIP model
 * finds later in the plan (a JSON pointer) can still name the mapping's rule and the source.
 */
import { toPointer } from '../../sip/index.js';
import { fromIso, toIso } from './dates.js';
import { withLookup, type Expression, type ExpressionEnv } from './expressions.js';
import type { CompiledRule, Mapping } from './compile.js';
import type { JsonValue, MappingIssue, SourceLocation, ValueType } from './types.js';

export type Direction = 'inbound' | 'outbound';

/** Where a value of the input document is: its pointer, and, where the reader knows, its line. */
export interface InputIndex {
  pointerOf(value: unknown): string | undefined;
  lineOf(value: unknown, pointer: string): number | undefined;
  /** True for XML sources: locations are given as element paths. */
  readonly xml: boolean;
}

/** What wrote a value of the output: the rule and where it read it. */
export interface TraceEntry {
  readonly rule: string;
  readonly source: SourceLocation;
}

export interface RunResult {
  readonly value: JsonValue | undefined;
  readonly issues: MappingIssue[];
  /** Output JSON pointer → what wrote it. */
  readonly trace: Map<string, TraceEntry>;
}

/** Walks a document once and remembers the pointer of each object and array in it. */
export function indexPointers(document: unknown): WeakMap<object, string> {
  const pointers = new WeakMap<object, string>();
  const walk = (value: unknown, pointer: string): void => {
    if (typeof value !== 'object' || value === null) return;
    pointers.set(value, pointer);
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        walk(item, `${pointer}/${String(index)}`);
      });
    } else for (const [key, item] of Object.entries(value)) walk(item, `${pointer}${toPointer([key])}`);
  };
  walk(document, '');
  return pointers;
}

/** A JSON pointer as an XML element path: `/export/beslut/1/datum` → `export/beslut[2]/datum`. */
export function xmlPathOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => (/^\d+$/.test(segment) ? `[${String(Number(segment) + 1)}]` : `/${segment.replaceAll('~1', '/').replaceAll('~0', '~')}`))
    .join('')
    .slice(1);
}

const SEGMENT = '([A-Za-z_][A-Za-z0-9_]*|`[^`.]+`)';
const SIMPLE_PATH = new RegExp(`^${SEGMENT}(\\.${SEGMENT})*$`);

/**
 * The pointer an expression read, when it is a plain path of field names through objects only
 * (`client.address.city`): most leaves of a mapping are, and so their errors can name the exact
 * field and line. Anything else is located by its input and the expression's text.
 */
function simplePathPointer(input: unknown, pointer: string, expression: string): string | undefined {
  const target = simplePathTarget(input, pointer, expression);
  return target === undefined || Array.isArray(target.node) ? undefined : target.pointer;
}

/** The node a plain path of field names reaches, and its pointer. */
function simplePathTarget(input: unknown, pointer: string, expression: string): { node: unknown; pointer: string } | undefined {
  if (!SIMPLE_PATH.test(expression)) return undefined;
  let node = input;
  let at = pointer;
  for (const segment of expression.split('.')) {
    const field = segment.replace(/^`(.*)`$/, '$1');
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !(field in node)) return undefined;
    node = (node as Record<string, unknown>)[field];
    at = `${at}${toPointer([field])}`;
  }
  return { node, pointer: at };
}

interface Scope {
  readonly input: unknown;
  readonly env: ExpressionEnv;
  /** The input's pointer, when known. */
  readonly pointer: string | undefined;
}

class Runner {
  readonly issues: MappingIssue[] = [];
  readonly trace = new Map<string, TraceEntry>();

  constructor(
    readonly mapping: Mapping,
    readonly direction: Direction,
    readonly index: InputIndex,
  ) {}

  /**
   * Where a value was read. The line is looked up only for a problem reported now (`withLine`):
   * traces are kept for every value written, and finding lines for all of them would cost more than
   * the translation; a later problem gets its line through `lineOf`.
   */
  location(scope: Scope, expression: Expression | undefined, value?: unknown, withLine = false): SourceLocation {
    const pointer =
      (value === undefined ? undefined : this.index.pointerOf(value)) ??
      (expression === undefined || scope.pointer === undefined ? undefined : simplePathPointer(scope.input, scope.pointer, expression.text)) ??
      scope.pointer;
    const line = !withLine || pointer === undefined ? undefined : this.index.lineOf(pointer === scope.pointer ? scope.input : value, pointer);
    return {
      ...(pointer === undefined ? {} : this.index.xml ? { xmlPath: xmlPathOf(pointer), pointer } : { pointer }),
      ...(expression === undefined ? {} : { expression: expression.text }),
      ...(line === undefined ? {} : { line }),
    };
  }

  report(code: string, rule: string, message: string, source: SourceLocation): void {
    this.issues.push({ severity: 'error', code, file: this.mapping.file, rule, message, source });
  }

  /** `mapped()` inside expressions: source code → SIP value, an unknown code reported. */
  lookup(scope: Scope, rule: string, mapName: string, code: unknown): unknown {
    const map = this.mapping.valueMaps.get(mapName);
    if (map === undefined) {
      this.report('mapping.unknown-value-map', rule, `mapped('${mapName}'): no value map "${mapName}" in "valueMaps"`, this.location(scope, undefined, undefined, true));
      return undefined;
    }
    const value = map.forward.get(String(code));
    if (value === undefined) {
      this.report('mapping.value-unknown', rule, `the code ${JSON.stringify(code)} is not in the value map "${mapName}"`, this.location(scope, undefined, undefined, true));
    }
    return value;
  }

  evaluate(expression: Expression, scope: Scope, rule: string): unknown[] | undefined {
    try {
      return withLookup(
        (mapName, code) => this.lookup(scope, rule, mapName, code),
        () => expression.evaluate(scope.input, scope.env),
      );
    } catch (error) {
      this.report('mapping.expression-failed', rule, `\`${expression.text}\` failed: ${error instanceof Error ? error.message : String(error)}`, this.location(scope, expression, undefined, true));
      return undefined;
    }
  }

  applies(when: Expression | undefined, scope: Scope, rule: string): boolean {
    if (when === undefined) return true;
    const result = this.evaluate(when, scope, `${rule}.$when`);
    return result?.length === 1 && result[0] === true;
  }

  run(rule: CompiledRule, scope: Scope, out: string): JsonValue | undefined {
    switch (rule.kind) {
      case 'const':
        return this.applies(rule.when, scope, rule.rule) ? this.traced(out, rule.rule, scope, undefined, rule.value) : undefined;
      case 'value':
        return this.applies(rule.when, scope, rule.rule) ? this.value(rule, scope, out) : undefined;
      case 'object':
        return this.applies(rule.when, scope, rule.rule) ? this.object(rule, scope, out) : undefined;
      case 'each': {
        if (!this.applies(rule.when, scope, rule.rule)) return undefined;
        const items = this.each(rule, scope, out, 0);
        return items.length === 0 ? undefined : items;
      }
      case 'array': {
        const items: JsonValue[] = [];
        for (const item of rule.items) {
          if (item.kind === 'each') {
            if (this.applies(item.when, scope, item.rule)) items.push(...this.each(item, scope, out, items.length));
            continue;
          }
          const value = this.run(item, scope, `${out}/${String(items.length)}`);
          if (value !== undefined) items.push(value);
        }
        return items.length === 0 ? undefined : items;
      }
    }
  }

  traced<T extends JsonValue>(out: string, rule: string, scope: Scope, expression: Expression | undefined, value: T, read?: unknown): T {
    this.trace.set(out, { rule, source: this.location(scope, expression, read) });
    return value;
  }

  object(rule: Extract<CompiledRule, { kind: 'object' }>, scope: Scope, out: string): JsonValue | undefined {
    const result: Record<string, JsonValue> = {};
    for (const [key, field] of rule.fields) {
      const value = this.run(field, scope, `${out}${toPointer([key])}`);
      if (value !== undefined) result[key] = value;
    }
    if (Object.keys(result).length === 0) return undefined;
    // An object built from one item of the source is located at that item; one built from the whole
    // document, where its first field was read.
    const first = scope.pointer === '' ? rule.fields.map(([key]) => this.trace.get(`${out}${toPointer([key])}`)).find((entry) => entry !== undefined) : undefined;
    this.trace.set(out, { rule: rule.rule, source: first?.source ?? this.location(scope, undefined) });
    return result;
  }

  each(rule: Extract<CompiledRule, { kind: 'each' }>, scope: Scope, out: string, offset: number): JsonValue[] {
    const collection = this.evaluate(rule.expression, scope, `${rule.rule}.$each`) ?? [];
    // Items that are not objects (a list of ids or dates) are located through the array they are in.
    const array = scope.pointer === undefined ? undefined : simplePathTarget(scope.input, scope.pointer, rule.expression.text);
    const arrayPointer = array !== undefined && Array.isArray(array.node) && array.node.length === collection.length ? array.pointer : undefined;
    const items: JsonValue[] = [];
    collection.forEach((item, index) => {
      const itemScope: Scope = {
        input: item,
        env: { ...scope.env, item, index },
        pointer: this.index.pointerOf(item) ?? (arrayPointer === undefined ? scope.pointer : `${arrayPointer}/${String(index)}`),
      };
      const value = this.run(rule.item, itemScope, `${out}/${String(offset + items.length)}`);
      if (value !== undefined) items.push(value);
    });
    return items;
  }

  /** `$map`, then `$date`, then `$as` (mappings/README.md, "Rules"). */
  convertValue(rule: Extract<CompiledRule, { kind: 'value' }>, read: JsonValue): Conversion {
    let value = read;
    if (rule.map !== undefined) {
      const map = this.mapping.valueMaps.get(rule.map);
      const mapped = this.direction === 'inbound' ? map?.forward.get(describe(value)) : map?.reverse.get(JSON.stringify(value));
      if (mapped === undefined) {
        const side = this.direction === 'inbound' ? 'code' : 'SIP value';
        return { ok: false, code: 'mapping.value-unknown', message: `the ${side} ${JSON.stringify(value)} is not in the value map "${rule.map}"` };
      }
      value = mapped;
    }
    if (rule.date !== undefined) {
      if (typeof value !== 'string') return { ok: false, code: 'mapping.date-format', message: `expected date text, got ${JSON.stringify(value)}` };
      const converted = this.direction === 'inbound' ? toIso(value, rule.date) : fromIso(value, rule.date);
      if (!converted.ok) return { ok: false, code: 'mapping.date-format', message: converted.message };
      value = converted.value;
    }
    if (rule.as !== undefined) {
      const converted = convert(value, rule.as);
      if (converted === undefined) return { ok: false, code: 'mapping.value-type', message: `${JSON.stringify(value)} is not ${ARTICLE[rule.as]}` };
      value = converted;
    }
    return { ok: true, value };
  }

  value(rule: Extract<CompiledRule, { kind: 'value' }>, scope: Scope, out: string): JsonValue | undefined {
    const result = this.evaluate(rule.expression, scope, rule.rule);
    if (result === undefined) return undefined;
    if (result.length > 1) {
      this.report('mapping.cardinality', rule.rule, `\`${rule.expression.text}\` yields ${String(result.length)} values where the target holds one (use $each for a list)`, this.location(scope, rule.expression, undefined, true));
      return undefined;
    }
    const [read] = result;
    if (read === undefined || read === null || read === '') return rule.fallback === undefined ? undefined : this.traced(out, rule.rule, scope, rule.expression, rule.fallback);
    const converted = this.convertValue(rule, read as JsonValue);
    if (!converted.ok) {
      this.report(converted.code, rule.rule, converted.message, this.location(scope, rule.expression, read, true));
      return undefined;
    }
    const value = converted.value;
    return this.traced(out, rule.rule, scope, rule.expression, value, read);
  }
}

type Conversion = { ok: true; value: JsonValue } | { ok: false; code: string; message: string };

/** A code as the text a value map is keyed by. */
function describe(value: JsonValue): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const ARTICLE: Readonly<Record<ValueType, string>> = {
  string: 'a string',
  integer: 'an integer',
  decimal: 'a decimal number',
  boolean: 'a boolean (true or false)',
  date: 'an ISO 8601 date (YYYY-MM-DD)',
  dateTime: 'an ISO 8601 date-time with offset',
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `$as`: the value as the target type, or `undefined` when it is not one. */
function convert(value: JsonValue, as: ValueType): JsonValue | undefined {
  switch (as) {
    case 'string':
      return typeof value === 'object' ? undefined : String(value);
    case 'integer':
      if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
      return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : undefined;
    case 'decimal':
      if (typeof value === 'number') return value;
      return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) ? value : undefined;
    case 'dateTime':
      return typeof value === 'string' && ISO_DATE_TIME.test(value) ? value : undefined;
  }
}

/** Runs `rule` over `document`; `env` holds `%doc` (inbound) or `%plan` (outbound). */
export function runRules(mapping: Mapping, rule: CompiledRule, direction: Direction, document: unknown, index: InputIndex): RunResult {
  const runner = new Runner(mapping, direction, index);
  const env: ExpressionEnv = direction === 'inbound' ? { doc: document } : { plan: document };
  const value = runner.run(rule, { input: document, env, pointer: '' }, '');
  return { value, issues: runner.issues, trace: runner.trace };
}

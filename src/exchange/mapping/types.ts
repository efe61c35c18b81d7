/**
 * The mapping format as the engine holds it: the JSON of `mapping.json` (checked against
 * mappings/mapping.schema.json before it is typed as these), and the issues a translation reports.
 */

/** A JSON value, as a mapping or a document holds it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A node of the inbound tree or the outbound template (mappings/README.md, "Rules"). */
export type RuleNode = string | readonly RuleNode[] | ValueRule | EachRule | ConstRule | ObjectRule;

export type ValueType = 'string' | 'integer' | 'decimal' | 'boolean' | 'date' | 'dateTime';

export interface ValueRule {
  readonly $path: string;
  readonly $map?: string;
  readonly $date?: string;
  readonly $as?: ValueType;
  readonly $default?: JsonValue;
  readonly $when?: string;
}

export interface EachRule {
  readonly $each: string;
  readonly $item: RuleNode;
  readonly $when?: string;
}

export interface ConstRule {
  readonly $const: JsonValue;
  readonly $when?: string;
}

/** Field name → rule; `$when` (a condition) is the only `$` key. */
export type ObjectRule = { readonly [field: string]: RuleNode };

export interface DateFormat {
  readonly pattern: string;
  readonly timeZone?: string;
  readonly description?: string;
}

export interface ValueMapDefinition {
  readonly description?: string;
  readonly target?: string;
  readonly entries: Readonly<Record<string, string | number | boolean>>;
  readonly reverse?: Readonly<Record<string, string | number | boolean>>;
}

export interface NotCarried {
  readonly pointer: string;
  readonly reason: string;
}

/** `mapping.json`, once it has passed the schema. */
export interface MappingDocument {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly format: 'json' | 'xml';
  readonly xml?: { readonly alwaysArray?: readonly string[]; readonly declaration?: boolean };
  readonly dates?: Readonly<Record<string, DateFormat>>;
  readonly valueMaps?: Readonly<Record<string, ValueMapDefinition>>;
  readonly inbound: ObjectRule;
  readonly outbound?: RuleNode;
  readonly roundTrip?: { readonly notCarried?: readonly NotCarried[] };
}

/** Where in a source document (or a plan, outbound) a value came from. */
export interface SourceLocation {
  /** JSON pointer into the document as JSON (for XML: after the documented conversion). */
  readonly pointer?: string;
  /** The FHIRPath expression that read it, when a rule did. */
  readonly expression?: string;
  /** The element path, for XML: `export/beslut[2]/datum`. */
  readonly xmlPath?: string;
  /** 1-based line in the source text, where it can be told. */
  readonly line?: number;
  /** 1-based column in the source text, for text that does not parse. */
  readonly column?: number;
}

/**
 * One thing a mapping, a translation or a check found. `code` is stable: `mapping.*` for the mapping
 * and its translation, `source.*` for the source text, and the SIP's own codes (`schema.*` and the
 * rule codes of docs/rules.md) for the plan that came out.
 */
export interface MappingIssue {
  readonly severity: 'error' | 'warning' | 'information';
  readonly code: string;
  readonly message: string;
  /** The mapping file. */
  readonly file?: string;
  /** The rule: `inbound.interventions[].start`, `outbound.export.beslut[].datum`, `valueMaps.roles`. */
  readonly rule?: string;
  /** Where in the source (inbound) or the plan (outbound) the value was read. */
  readonly source?: SourceLocation;
  /** JSON pointer into the SIP plan, for a problem of the plan. */
  readonly planPointer?: string;
}

/** An issue in one line of text, for logs and the command line. */
export function formatIssue(issue: MappingIssue): string {
  const where: string[] = [];
  if (issue.file !== undefined) where.push(issue.file);
  if (issue.rule !== undefined) where.push(`rule ${issue.rule}`);
  if (issue.planPointer !== undefined) where.push(`plan ${issue.planPointer === '' ? '(document)' : issue.planPointer}`);
  const source = issue.source;
  if (source !== undefined) {
    const parts: string[] = [];
    if (source.xmlPath !== undefined) parts.push(source.xmlPath);
    else if (source.pointer !== undefined) parts.push(source.pointer === '' ? '(document)' : source.pointer);
    if (source.expression !== undefined) parts.push(`\`${source.expression}\``);
    if (source.line !== undefined) parts.push(`line ${String(source.line)}${source.column === undefined ? '' : `, column ${String(source.column)}`}`);
    if (parts.length > 0) where.push(`source ${parts.join(' ')}`);
  }
  return `${issue.severity} ${issue.code}${where.length > 0 ? ` at ${where.join(', ')}` : ''}: ${issue.message}`;
}

export const isError = (issue: MappingIssue): boolean => issue.severity === 'error';

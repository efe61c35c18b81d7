/**
 * The one XML convention of mappings (mappings/README.md, "XML"), on fast-xml-parser: attributes
 * are keys prefixed `@_`, an element's text is its value (`#text` beside attributes), every value a
 * trimmed string, and the elements a mapping lists in `xml.alwaysArray` are arrays even when single.
 * Each element object remembers where it started, so errors can name its line.
 */
import XMLBuilder from 'fast-xml-builder';
import { XMLParser } from 'fast-xml-parser';
import { SyntaxValidator } from 'fast-xml-validator';
import { lineAndColumn } from '../../sip/index.js';

const CONVENTION = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
} as const;

/** The symbol under which fast-xml-parser keeps an element's start offset (captureMetaData). */
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

export type XmlRead = { ok: true; value: unknown } | { ok: false; message: string; line?: number; column?: number };

/** Parses XML text into JSON under the convention; a malformed document names its line. */
export function readXml(text: string, alwaysArray: readonly string[]): XmlRead {
  // An export needs no DTD, and a DTD's entities could expand without bound ("billion laughs").
  const doctype = /<!DOCTYPE/i.exec(text);
  if (doctype !== null) return { ok: false, message: 'XML with a DOCTYPE is refused: an export needs none, and its entities could expand without bound', line: lineAndColumn(text, doctype.index).line };
  try {
    SyntaxValidator.validate(text);
  } catch (error) {
    // fast-xml-validator throws a ValidationError carrying the line and column of the fault.
    const { line, col } = error as { line?: unknown; col?: unknown };
    const where = typeof line === 'number' ? ` at line ${String(line)}${typeof col === 'number' ? `, column ${String(col)}` : ''}` : '';
    return {
      ok: false,
      message: `malformed XML${where}: ${error instanceof Error ? error.message : String(error)}`,
      ...(typeof line === 'number' ? { line } : {}),
      ...(typeof col === 'number' ? { column: col } : {}),
    };
  }
  const arrays = new Set(alwaysArray);
  const parser = new XMLParser({
    ...CONVENTION,
    captureMetaData: true,
    isArray: (_name: string, jpath: unknown) => arrays.has(String(jpath)),
  });
  return { ok: true, value: parser.parse(text) as unknown };
}

/** The line an element object started on, when the parser recorded it. */
export function xmlLine(text: string, element: unknown): number | undefined {
  if (typeof element !== 'object' || element === null) return undefined;
  const meta = (element as Record<symbol, { startIndex?: number } | undefined>)[META];
  return meta?.startIndex === undefined ? undefined : lineAndColumn(text, meta.startIndex).line;
}

/** Writes JSON built under the convention as XML text. */
export function writeXml(value: unknown, declaration: boolean): string {
  const builder = new XMLBuilder({ ...CONVENTION, format: true, indentBy: '  ', suppressEmptyNode: true });
  const body = builder.build(value);
  return declaration ? `<?xml version="1.0" encoding="UTF-8"?>\n${body}` : body;
}

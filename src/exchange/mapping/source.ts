/**
 * Reading a source document as the mapping's format says: JSON (located by line and column when
 * malformed), or XML under the convention of xml.ts. The reader also gives the index that turns a
 * value back into its place: JSON pointer, XML element path and line.
 */
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import { lineAndColumn, parseJson } from '../../sip/index.js';
import type { Mapping } from './compile.js';
import { indexPointers, type InputIndex } from './run.js';
import { readXml, xmlLine } from './xml.js';
import type { MappingIssue } from './types.js';

export type SourceRead = { ok: true; document: unknown; index: InputIndex } | { ok: false; issues: MappingIssue[] };

/** Pointer segments as jsonc-parser's path (numbers for array indexes). */
function segments(pointer: string, tree: Node | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  let node = tree;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const key = node?.type === 'array' ? Number(segment) : segment;
    path.push(key);
    node = node === undefined ? undefined : findNodeAtLocation(node, [key]);
  }
  return path;
}

function jsonIndex(text: string, document: unknown): InputIndex {
  const pointers = indexPointers(document);
  let tree: Node | undefined;
  return {
    xml: false,
    pointerOf: (value) => (typeof value === 'object' && value !== null ? pointers.get(value) : undefined),
    lineOf: (_value, pointer) => {
      // Parsed only when an error needs a line: translating a valid document never pays for it.
      tree ??= parseTree(text);
      const node = tree === undefined ? undefined : findNodeAtLocation(tree, segments(pointer, tree));
      return node === undefined ? undefined : lineAndColumn(text, node.offset).line;
    },
  };
}

/** The line of the innermost element object on the way to `pointer` (text-only elements are strings). */
function nearestElementLine(text: string, document: unknown, pointer: string): number | undefined {
  let node = document;
  let line = xmlLine(text, node);
  for (const raw of pointer.split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) break;
    node = (node as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
    line = xmlLine(text, node) ?? line;
  }
  return line;
}

function xmlIndex(text: string, document: unknown): InputIndex {
  const pointers = indexPointers(document);
  return {
    xml: true,
    pointerOf: (value) => (typeof value === 'object' && value !== null ? pointers.get(value) : undefined),
    lineOf: (value, pointer) => xmlLine(text, value) ?? nearestElementLine(text, document, pointer),
  };
}

/** Reads `text` in the mapping's format. */
export function readSource(mapping: Mapping, text: string): SourceRead {
  if (mapping.document.format === 'xml') {
    const read = readXml(text, mapping.document.xml?.alwaysArray ?? []);
    if (!read.ok) {
      const source = { ...(read.line === undefined ? {} : { line: read.line }), ...(read.column === undefined ? {} : { column: read.column }) };
      return { ok: false, issues: [{ severity: 'error', code: 'source.malformed', message: read.message, source }] };
    }
    return { ok: true, document: read.value, index: xmlIndex(text, read.value) };
  }
  const json = parseJson(text);
  if (!json.ok) {
    // parseJson names the place in its message ("Malformed JSON at line 3, column 1: …").
    const place = /at line (\d+)(?:, column (\d+))?/.exec(json.message);
    const source = place === null ? {} : { line: Number(place[1]), ...(place[2] === undefined ? {} : { column: Number(place[2]) }) };
    return { ok: false, issues: [{ severity: 'error', code: 'source.malformed', message: json.message, source }] };
  }
  return { ok: true, document: json.value, index: jsonIndex(text, json.value) };
}

/** An index for a document that has no text (a plan, outbound): pointers only. */
export function objectIndex(document: unknown): InputIndex {
  const pointers = indexPointers(document);
  return { xml: false, pointerOf: (value) => (typeof value === 'object' && value !== null ? pointers.get(value) : undefined), lineOf: () => undefined };
}

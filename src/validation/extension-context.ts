/**
 * Where an extension may be used: its StructureDefinition's `context`
 * (https://hl7.org/fhir/R4/extensibility.html#context, https://hl7.org/fhir/R4/codesystem-extension-context-type.html).
 *
 * - `element`: the element holding the extension is named by the expression — by its element path
 *   (`Patient.contact`), by its data type (`HumanName`, `string`), or by a type either of these is
 *   derived from (`DomainResource.x` for `Patient.x`, `string` for a `code`); `Element` allows any
 *   element. These are the element's "logical paths" that the HL7 Java validator matches
 *   (EXTENSION_EXTP_CONTEXT_WRONG, an error).
 * - `extension`: the holder is an extension with that URL.
 * - `fhirpath`: not checked here (no base R4 or SIP extension uses one); such a context allows the use.
 *
 * An extension whose definition is unknown, or has no context, is not judged.
 */
import type { StructureDefinition } from 'fhir/r4.js';
import type { DefinitionStore } from './definitions.js';
import type { Findings } from './issues.js';
import { isObject, type Json } from './walker.js';

export const EXTENSION_CONTEXT = 'extension-context';

const BASE = 'http://hl7.org/fhir/StructureDefinition/';

/** Where the extensions are: the element (or resource) that holds them. */
export interface ExtensionHolder {
  /**
   * The element's path in its StructureDefinition (`Patient.name`, `Patient`, `Extension.value[x]`),
   * and for an element defined by a contentReference the path it refers to (`PlanDefinition.action`).
   */
  readonly paths: readonly string[];
  /** The element's data type, or the resource type. */
  readonly type: string | undefined;
  /** The holder's JSON: its `extension` and `modifierExtension` are judged; an Extension's `url` names it. */
  readonly value: Json;
  /** The holder's FHIRPath with indexes. */
  readonly expression: string;
}

export class ExtensionContexts {
  readonly #store: DefinitionStore;
  readonly #chains = new Map<string, readonly string[]>();

  constructor(store: DefinitionStore) {
    this.#store = store;
  }

  check(holder: ExtensionHolder, findings: Findings): void {
    for (const property of ['extension', 'modifierExtension'] as const) {
      const list = holder.value[property];
      if (!Array.isArray(list)) continue;
      list.forEach((extension: unknown, index) => {
        if (!isObject(extension) || typeof extension.url !== 'string' || !extension.url.includes(':')) return;
        const definition = this.#store.structureDefinition(extension.url);
        if (definition?.type !== 'Extension' || definition.context === undefined || definition.context.length === 0) return;
        const paths = this.#logicalPaths(holder);
        if (this.#allowed(definition, holder, paths)) return;
        const allowed = definition.context.map((context) => `${context.type}:${context.expression}`).join(', ');
        findings.add({
          severity: 'error',
          code: 'structure',
          rule: EXTENSION_CONTEXT,
          source: definition.url,
          expression: `${holder.expression}.${property}[${String(index)}]`,
          message: `The extension ${extension.url} is not allowed to be used at this point (this element is [${paths.join(', ')}]; allowed for ${allowed})`,
        });
      });
    }
  }

  #allowed(definition: StructureDefinition, holder: ExtensionHolder, paths: readonly string[]): boolean {
    return (definition.context ?? []).some((context) => {
      switch (context.type) {
        case 'element':
          return context.expression === 'Element' || this.#matchesElement(context.expression, paths);
        case 'extension':
          return holder.type === 'Extension' && holder.value.url === context.expression;
        default:
          return true;
      }
    });
  }

  /** `Patient.name` and `HumanName` for a Patient's name: the path and the type. */
  #logicalPaths(holder: ExtensionHolder): string[] {
    return [...new Set([...holder.paths, ...(holder.type === undefined ? [] : [holder.type])])];
  }

  /** Whether `expression` names one of the paths, its first step taken as each type it is derived from. */
  #matchesElement(expression: string, paths: readonly string[]): boolean {
    return paths.some((path) => {
      if (path === expression) return true;
      const dot = path.indexOf('.');
      const [type, rest] = dot === -1 ? [path, ''] : [path.slice(0, dot), path.slice(dot)];
      return this.#typeChain(type).some((ancestor) => `${ancestor}${rest}` === expression);
    });
  }

  /** A type and the types it is derived from, by baseDefinition (`Patient`, `DomainResource`, `Resource`). */
  #typeChain(type: string): readonly string[] {
    let chain = this.#chains.get(type);
    if (chain === undefined) {
      const found: string[] = [];
      let definition = this.#store.typeDefinition(type);
      while (definition !== undefined && found.length < 10) {
        found.push(definition.type);
        const base = definition.baseDefinition;
        definition = base?.startsWith(BASE) === true ? this.#store.structureDefinition(base) : undefined;
      }
      // A type the packages do not define (the data may name any) is not kept: what is kept stays bounded by the packages.
      if (found.length === 0) return [type];
      chain = found;
      this.#chains.set(type, chain);
    }
    return chain;
  }
}

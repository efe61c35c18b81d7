/**
 * Checks of the R4 specification that no StructureDefinition element or constraint expresses, each
 * in its own module, called by the walker at the one place it meets the value:
 * - strings over 1 MB (string-length.ts),
 * - an Attachment's size and hash against its data (attachment.ts),
 * - Coding.system absolute and not a ValueSet (coding-system.ts),
 * - where an extension may be used (extension-context.ts).
 */
import { checkAttachment } from './attachment.js';
import { checkCodingSystem } from './coding-system.js';
import type { DefinitionStore } from './definitions.js';
import { ExtensionContexts } from './extension-context.js';
import type { Findings } from './issues.js';
import { checkStringLength } from './string-length.js';
import type { ElementNode } from './type-model.js';
import type { Json } from './walker.js';

/** The element's path and, for one defined by reference (`PlanDefinition.action.action`), the path it repeats. */
function elementPaths(node: ElementNode): string[] {
  const reference = node.contentReference;
  return reference === undefined ? [node.path] : [node.path, reference.slice(reference.indexOf('#') + 1)];
}

export class ConformanceChecks {
  readonly #store: DefinitionStore;
  readonly #contexts: ExtensionContexts;

  constructor(store: DefinitionStore) {
    this.#store = store;
    this.#contexts = new ExtensionContexts(store);
  }

  /** A primitive value of `type`, already known to be well formed. */
  primitive(type: string, value: unknown, expression: string, findings: Findings): void {
    checkStringLength(type, value, expression, findings);
  }

  /**
   * A JSON object in the place of the element `node` of data type `type`: a complex value, the
   * `_name` part of a primitive, or a resource (its root element, and its resource type).
   */
  element(type: string | undefined, node: ElementNode, value: Json, expression: string, findings: Findings): void {
    if (type === 'Attachment') checkAttachment(value, expression, findings);
    if (type === 'Coding') checkCodingSystem(value, expression, findings, this.#store);
    if (value.extension !== undefined || value.modifierExtension !== undefined) this.#contexts.check({ paths: elementPaths(node), type, value, expression }, findings);
  }
}

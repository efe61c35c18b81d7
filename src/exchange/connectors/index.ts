/**
 * Connectors: one per receiver, putting a plan version on the wire in the receiver's format (FHIR R4
 * transaction Bundle, or a mapping's format over HTTP or as a file), with its auth (delivery.ts has
 * the contract, receivers.ts the configuration).
 */
import path from 'node:path';
import type { Connector } from '../delivery.js';
import { loadMapping, type Mapping } from '../mapping/index.js';
import { DEFAULT_MAPPINGS_DIR, type Receiver } from '../receivers.js';
import { createFhirConnector, type FhirConnectorOptions } from './fhir.js';
import { createMappingConnector } from './mapping.js';

export { createTokenSource, JWT_BEARER_ASSERTION_TYPE, ASSERTION_LIFETIME_SECONDS, REFRESH_MARGIN_MS, TokenError, type TokenSource, type TokenSourceOptions } from './auth.js';
export { createFhirConnector, carePlanSearch, heldVersion, FHIR_JSON, type ConnectorOptions, type FhirConnectorOptions } from './fhir.js';
export { createMappingConnector, dropFileName, mediaTypeOf } from './mapping.js';
export { parseRetryAfter, refusesSize } from './http.js';

export interface CreateConnectorOptions extends FhirConnectorOptions {
  /** The mappings by name (from `loadReceiverMappings`); a mapping receiver needs its own. */
  readonly mappings?: ReadonlyMap<string, Mapping>;
}

/** Loads, once each, the mappings the receivers name (they were checked to exist by `loadReceivers`). */
export async function loadReceiverMappings(receivers: readonly Receiver[], mappingsDir: string = DEFAULT_MAPPINGS_DIR): Promise<Map<string, Mapping>> {
  const names = [...new Set(receivers.flatMap((receiver) => (receiver.kind === 'mapping' ? [receiver.mapping] : [])))];
  const loaded = await Promise.all(names.map(async (name) => [name, await loadMapping(path.join(mappingsDir, name))] as const));
  return new Map(loaded);
}

/**
 * The connector of a receiver. A mapping receiver's mapping must be in `options.mappings`: its
 * absence is a bug of the caller (the configuration was checked), so this throws.
 */
export function createConnector(receiver: Receiver, options: CreateConnectorOptions = {}): Connector {
  if (receiver.kind === 'fhir') return createFhirConnector(receiver, options);
  const mapping = options.mappings?.get(receiver.mapping);
  if (mapping === undefined) throw new Error(`the mapping "${receiver.mapping}" of the receiver ${receiver.id} was not loaded (loadReceiverMappings)`);
  return createMappingConnector(receiver, mapping, options);
}

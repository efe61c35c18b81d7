/**
 * Declarative mappings between external systems' own formats and the SIP (mappings/README.md):
 * load a mapping folder, translate a document in, a plan out, and check a mapping for its author.
 */
export { compileMapping, loadMapping, MAPPING_FILE, MAPPING_SCHEMA_FILE, MappingLoadError, type Mapping, type ValueMap } from './compile.js';
export { translateInbound, translateOutbound, type InboundResult, type OutboundOptions, type OutboundResult, type TranslateOptions } from './translate.js';
export { formatIssue, isError, type JsonValue, type MappingDocument, type MappingIssue, type SourceLocation } from './types.js';
export { checkMappingFolder, checkSample, checkValueMaps, sampleFiles, type MappingCheck, type SampleCheck } from './check.js';
export { SIP_CODE_LISTS } from './code-lists.js';

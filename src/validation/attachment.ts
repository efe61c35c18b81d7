/**
 * An Attachment's `size` and `hash` against its `data` (https://hl7.org/fhir/R4/datatypes.html#Attachment):
 * `size` is the number of bytes of the content, `hash` "the calculated hash of the data using SHA-1.
 * Represented using base64". Where `data` is given, both can be checked, as the HL7 Java validator
 * does (TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT, TYPE_SPECIFIC_CHECKS_DT_ATT_HASH_MISMATCH). Without
 * `data` (content at `url`) nothing can be checked here.
 */
import { createHash } from 'node:crypto';
import type { Findings } from './issues.js';
import type { Json } from './walker.js';

export const ATTACHMENT_SIZE = 'attachment-size';
export const ATTACHMENT_HASH = 'attachment-hash';

const SOURCE = 'http://hl7.org/fhir/StructureDefinition/Attachment';
/** base64Binary's lexical form (its regex in R4 allows white space between groups). */
const BASE64 = /^(?:\s*[0-9a-zA-Z+/=]){4}(?:\s*[0-9a-zA-Z+/=]{4})*\s*$/;

export function checkAttachment(attachment: Json, expression: string, findings: Findings): void {
  const { data, size, hash } = attachment;
  if (typeof data !== 'string' || !BASE64.test(data)) return;
  const bytes = Buffer.from(data.replace(/\s+/g, ''), 'base64');
  if (typeof size === 'number' && Number.isInteger(size) && size !== bytes.length) {
    findings.add({ severity: 'error', code: 'value', rule: ATTACHMENT_SIZE, source: SOURCE, expression: `${expression}.size`, message: `Attachment.size is ${String(size)}, but data holds ${String(bytes.length)} bytes` });
  }
  if (typeof hash === 'string' && BASE64.test(hash)) {
    const actual = createHash('sha1').update(bytes).digest('base64');
    if (hash.replace(/\s+/g, '') !== actual) {
      findings.add({ severity: 'error', code: 'value', rule: ATTACHMENT_HASH, source: SOURCE, expression: `${expression}.hash`, message: `Attachment.hash is ${hash}, but the SHA-1 of data is ${actual} (base64)` });
    }
  }
}

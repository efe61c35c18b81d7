/**
 * One-off migration: writes the FSH sources under profiles/input/fsh/ from the TypeScript profile
 * objects, so the move to FHIR Shorthand starts from exactly what was shipped. Removed once FSH is
 * the source.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import { EXTENSION } from '../../src/fhir/canonical.js';
import { CODE_SYSTEMS } from '../../src/fhir/code-systems.js';
import { computableName } from '../../src/fhir/profiles/define.js';
import { EXTENSION_SOURCES, OWN_EXTENSION_KEYS } from '../../src/fhir/profiles/extensions.js';
import { RESOURCE_PROFILES } from '../../src/fhir/profiles/index.js';
import { PROFILES_DIR, profilesWithSnapshots } from './build-profiles.js';

const FSH_DIR = join(PROFILES_DIR, 'input', 'fsh');
const q = (text: string): string => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

const vsNameByUrl = new Map(CODE_SYSTEMS.map((cs) => [`http://sip-fhir-adapter.se/fhir/ValueSet/${cs.id}`, `${computableName(cs.id)}VS`]));
const extNameByUrl = new Map(
  OWN_EXTENSION_KEYS.map((key) => {
    const url = EXTENSION[key];
    return [url, computableName(url.slice(url.lastIndexOf('/') + 1))];
  }),
);

function fshPath(id: string, root: string): string {
  if (id === root) return '.';
  return id
    .slice(root.length + 1)
    .split('.')
    .map((segment) => {
      const [name, slice] = segment.split(':');
      return slice === undefined ? name : `${name}[${slice}]`;
    })
    .join('.');
}

function binding(path: string, b: NonNullable<ElementDefinition['binding']>): string[] {
  const vs = vsNameByUrl.get(b.valueSet ?? '') ?? b.valueSet;
  return [`* ${path} from ${vs} (${b.strength})`, ...(b.description === undefined ? [] : [`* ${path} ^binding.description = ${q(b.description)}`])];
}

function profileFsh(definition: StructureDefinition, snapshot: StructureDefinition): string {
  const root = definition.type;
  const elements = definition.differential?.element ?? [];
  const snap = new Map((snapshot.snapshot?.element ?? []).map((e) => [e.id, e]));
  const lines: string[] = [];
  const invariants: string[] = [];
  const rootElement = elements[0];
  for (const constraint of rootElement?.constraint ?? []) {
    invariants.push(
      `Invariant: ${constraint.key}`,
      `Description: ${q(constraint.human)}`,
      `Severity: #${constraint.severity}`,
      `Expression: ${q(constraint.expression ?? '')}`,
      `* requirements = ${q(constraint.requirements ?? '')}`,
      '',
    );
  }
  lines.push(
    `Profile: ${computableName(definition.id ?? '')}`,
    `Parent: ${definition.baseDefinition?.replace('http://hl7.org/fhir/StructureDefinition/', '')}`,
    `Id: ${definition.id}`,
    `Title: ${q(definition.title ?? '')}`,
    `Description: ${q(definition.description ?? '')}`,
    '* insert SIPArtefact',
  );
  for (const constraint of rootElement?.constraint ?? []) lines.push(`* obeys ${constraint.key}`);
  for (const element of elements.slice(1)) {
    const id = element.id ?? '';
    const path = fshPath(id, root);
    const last = id.slice(id.lastIndexOf('.') + 1);
    const isExtensionSlice = element.sliceName !== undefined && last.startsWith('extension:');
    const parentIsExtensionSlice = /extension:[^.]+\.url$/.test(id);
    if (parentIsExtensionSlice) {
      // Fixed in the slice itself too: Medplum 4.5 matches extension slices on it without opening the
      // extension's definition, and SUSHI leaves the slice folded unless a rule reaches into it.
      lines.push(`* ${path} = ${q(element.fixedUri ?? '')} (exactly)`);
      continue;
    }
    if (element.slicing !== undefined) {
      const slices = elements.filter((other) => other.sliceName !== undefined && other.id === `${id}:${other.sliceName}`);
      if (last === 'extension') {
        lines.push(`* ${path} contains`);
        slices.forEach((slice, index) => {
          const url = slice.type?.[0]?.profile?.[0] ?? '';
          const name = extNameByUrl.get(url) ?? url;
          lines.push(`    ${name} named ${slice.sliceName} ${slice.min ?? 0}..${slice.max ?? '1'}${index < slices.length - 1 ? ' and' : ''}`);
        });
        lines.push(`* ${path} ^slicing.description = ${q(element.slicing.description ?? '')}`);
      } else {
        const d = element.slicing.discriminator?.[0];
        lines.push(`* ${path} ^slicing.discriminator.type = #${d?.type}`, `* ${path} ^slicing.discriminator.path = ${q(d?.path ?? '')}`);
        lines.push(`* ${path} ^slicing.rules = #${element.slicing.rules}`, `* ${path} ^slicing.description = ${q(element.slicing.description ?? '')}`);
        if (element.min !== undefined || element.max !== undefined) lines.push(`* ${path} ${element.min ?? snap.get(id)?.min}..${element.max ?? snap.get(id)?.max}`);
        lines.push(`* ${path} contains`);
        slices.forEach((slice, index) => lines.push(`    ${slice.sliceName} ${slice.min ?? 0}..${slice.max ?? '*'}${index < slices.length - 1 ? ' and' : ''}`));
      }
    } else if (element.sliceName === undefined && (element.min !== undefined || element.max !== undefined)) {
      lines.push(`* ${path} ${element.min ?? snap.get(id)?.min}..${element.max ?? snap.get(id)?.max}`);
    }
    if (element.mustSupport === true) lines.push(`* ${path} MS`);
    if (element.short !== undefined) lines.push(`* ${path} ^short = ${q(element.short)}`);
    if (element.fixedUri !== undefined) lines.push(`* ${path} = ${q(element.fixedUri)} (exactly)`);
    if (element.fixedCode !== undefined) lines.push(`* ${path} = #${element.fixedCode} (exactly)`);
    for (const coding of element.patternCodeableConcept?.coding ?? []) lines.push(`* ${path} = ${coding.system}#${coding.code}`);
    if (element.binding !== undefined) lines.push(...binding(path, element.binding));
    const handled = new Set(['id', 'path', 'sliceName', 'slicing', 'min', 'max', 'mustSupport', 'short', 'fixedUri', 'fixedCode', 'patternCodeableConcept', 'binding']);
    if (isExtensionSlice) handled.add('type');
    const left = Object.keys(element).filter((key) => !handled.has(key));
    if (left.length > 0) throw new Error(`${id}: unhandled ${left.join(', ')}`);
  }
  return [...invariants, ...lines, ''].join('\n');
}

function extensionsFsh(): string {
  const out: string[] = [];
  for (const key of OWN_EXTENSION_KEYS) {
    const source = EXTENSION_SOURCES[key];
    const url = EXTENSION[key];
    const id = url.slice(url.lastIndexOf('/') + 1);
    out.push(`Extension: ${computableName(id)}`, `Id: ${id}`, `Title: ${q(source.title)}`, `Description: ${q(source.description)}`);
    out.push(`Context: ${source.context.join(', ')}`, '* insert SIPArtefact');
    if (source.parts === undefined) {
      out.push(`* value[x] only ${(source.value ?? []).join(' or ')}`, '* value[x] 1..1');
      if (source.binding !== undefined) out.push(...binding('value[x]', source.binding));
    } else {
      out.push('* extension contains');
      source.parts.forEach((part, index) => out.push(`    ${part.name} ${part.min ?? 0}..${part.max ?? '1'}${index < (source.parts?.length ?? 0) - 1 ? ' and' : ''}`));
      out.push('* extension ^slicing.description = "The parts of the extension, by url"');
      // SUSHI raises the minimum to the sum of the required parts' minimums by itself.
      if (source.parts.every((part) => (part.min ?? 0) === 0)) out.push('* extension 1..*');
      for (const part of source.parts) {
        out.push(`* extension[${part.name}] ^short = ${q(part.short)}`);
        out.push(`* extension[${part.name}].value[x] only ${part.types.join(' or ')}`, `* extension[${part.name}].value[x] 1..1`);
        if (part.binding !== undefined) out.push(...binding(`extension[${part.name}].value[x]`, part.binding));
      }
    }
    out.push('');
  }
  return out.join('\n');
}

function terminologyFsh(): { codeSystems: string; valueSets: string } {
  const cs: string[] = [];
  const vs: string[] = [];
  for (const definition of CODE_SYSTEMS) {
    const name = computableName(definition.id);
    cs.push(`CodeSystem: ${name}`, `Id: ${definition.id}`, `Title: ${q(definition.title)}`, `Description: ${q(definition.description)}`);
    cs.push('* insert SIPArtefact', '* ^caseSensitive = true');
    for (const concept of definition.concepts) {
      cs.push(`* #${concept.code} ${q(concept.display)}`, `  * ^designation.language = #sv`, `  * ^designation.value = ${q(concept.sv)}`);
    }
    cs.push('');
    vs.push(`ValueSet: ${name}VS`, `Id: ${definition.id}`, `Title: ${q(definition.title)}`);
    vs.push(`Description: ${q(`All codes of the CodeSystem http://sip-fhir-adapter.se/fhir/CodeSystem/${definition.id}. ${definition.description}`)}`);
    vs.push('* insert SIPArtefact', `* ^name = "${name}"`, `* include codes from system ${name}|0.1.0`, '');
  }
  return { codeSystems: cs.join('\n'), valueSets: vs.join('\n') };
}

const FILE_OF: Record<string, string> = {
  'sip-careplan': 'careplan',
  'sip-careteam': 'careteam',
  'sip-goal': 'goal',
  'sip-consent': 'consent',
  'sip-appointment': 'appointment',
  'sip-approval-task': 'approval-task',
  'sip-decision': 'decision',
  'sip-patient': 'swedish-base',
  'sip-organization': 'swedish-base',
  'sip-practitioner': 'swedish-base',
  'sip-practitionerrole': 'swedish-base',
  'sip-relatedperson': 'swedish-base',
  'sip-bundle': 'bundle',
};

mkdirSync(FSH_DIR, { recursive: true });
const snapshots = new Map(profilesWithSnapshots().map((sd) => [sd.url, sd]));
const files = new Map<string, string[]>();
for (const definition of RESOURCE_PROFILES) {
  const file = FILE_OF[definition.id ?? ''] ?? 'x';
  const snapshot = snapshots.get(definition.url);
  if (snapshot === undefined) throw new Error(definition.url);
  files.set(file, [...(files.get(file) ?? []), profileFsh(definition, snapshot)]);
}
for (const [file, parts] of files) writeFileSync(join(FSH_DIR, `${file}.fsh`), parts.join('\n\n'));
writeFileSync(join(FSH_DIR, 'extensions.fsh'), extensionsFsh());
const { codeSystems, valueSets } = terminologyFsh();
writeFileSync(join(FSH_DIR, 'code-systems.fsh'), codeSystems);
writeFileSync(join(FSH_DIR, 'value-sets.fsh'), valueSets);

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import { createValidator, hasErrors } from '../src/validation/index.js';
import { loadMedplum } from '../test/support/fhir-validators.js';
const dir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
loadMedplum();
const v = createValidator({ rememberResults: false });
const files = readFileSync('/tmp/vspeed/chosen.txt', 'utf8').trim().split('\n');
const rows: [string, number, number][] = [];
for (let pass = 0; pass < 3; pass++) for (const f of files) {
  const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  let t = process.hrtime.bigint();
  const ours = hasErrors(v.validate(r));
  const a = Number(process.hrtime.bigint() - t) / 1e6;
  t = process.hrtime.bigint();
  let mp = '';
  try { validateResource(r); } catch (e) { if (e instanceof OperationOutcomeError) mp = JSON.stringify(e.outcome.issue.map((i) => i.details?.text ?? i.diagnostics)).slice(0, 300); else throw e; }
  const b = Number(process.hrtime.bigint() - t) / 1e6;
  if (pass === 2) { rows.push([f, a, b]); if (mp || ours) console.log('INVALID', f, 'ours', ours, 'medplum', mp); }
}
rows.sort((x, y) => y[2] - x[2]);
for (const r of rows.slice(0, 12)) console.log(r[0].padEnd(50), r[1].toFixed(2), r[2].toFixed(2));
const ratios = rows.map((r) => r[2] / r[1]).sort((a, b) => a - b);
console.log('median per-resource ratio', ratios[Math.floor(ratios.length / 2)]?.toFixed(2), 'sum ratio', (rows.reduce((s, r) => s + r[2], 0) / rows.reduce((s, r) => s + r[1], 0)).toFixed(2));

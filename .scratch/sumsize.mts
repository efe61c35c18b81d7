import { newPlan, personnummer } from '../bench/support.js';
import { parsePlan } from '../src/sip/index.js';
import { derivedVersion } from '../src/http/derived-view.js';
const parsed = parsePlan(newPlan('sip-x-1', personnummer(5)));
if (!parsed.ok) throw new Error('no');
const d = derivedVersion(parsed.plan);
console.log('summary', d.summary.length, 'basis', d.basis.length, 'texts', d.texts.length, 'plan', JSON.stringify(parsed.plan).length);
console.log(d.summary.slice(0, 1500));

/**
 * Rules for a plan made at discharge from inpatient care (seed 001 §3.3.2, lag 2017:612), and the
 * exception for compulsory psychiatric care (seed 001 §3.6.1).
 */
import type { CompulsoryCare } from '../model/index.js';
import { defineRule } from './rule.js';

/** What each law calls the compulsory care outside hospital, and where it prescribes the samordnad vårdplan. */
const COMPULSORY_CARE: Readonly<Record<CompulsoryCare, { care: string; law: string }>> = {
  LPT: { care: 'öppen psykiatrisk tvångsvård', law: 'LPT (lag 1991:1128 om psykiatrisk tvångsvård) 7 a §' },
  LRV: { care: 'öppen rättspsykiatrisk vård', law: 'LRV (lag 1991:1129 om rättspsykiatrisk vård) 12 a §' },
};

/**
 * A warning, not an error: the plan may have been recorded before the decision on öppen tvångsvård
 * was known, and the principals still have to plan together; but what they make is then a samordnad
 * vårdplan, with its own rules, and not a SIP.
 */
export const compulsoryCareDischarge = defineRule({
  code: 'plan.compulsory-care-discharge',
  kind: 'history',
  title:
    'A person who leaves inpatient care for compulsory psychiatric care under LPT or LRV is planned for with a samordnad vårdplan, which the law prescribes instead of a SIP.',
  source: { document: 'seed-001', section: '§3.6.1 Undantag vid tvångsvård och rättspsykiatri; §3.3.2' },
  *check({ plan }) {
    const compulsoryCare = plan.discharge?.compulsoryCare;
    if (compulsoryCare === undefined) return;
    const { care, law } = COMPULSORY_CARE[compulsoryCare];
    yield {
      pointer: '/discharge/compulsoryCare',
      message: `The person leaves inpatient care for ${care} under ${compulsoryCare}; for this discharge ${law} prescribes a samordnad vårdplan instead of a SIP`,
    };
  },
});

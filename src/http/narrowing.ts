/**
 * What a reader is answered, judged at the moment the data leaves (a read is data leaving, as a send
 * is; issue #11; seed 001 §4.2: "Den enskilde ska erbjudas möjlighet att undanta uppgifter som hen
 * inte vill att annan tar del av").
 *
 * - A **principal** of the plan, or a **unit** of one, reads the whole plan: the principals record
 *   the consent with the person (seed 001 §4.2: "Dialog förs med den enskilde om vilken typ av
 *   uppgifter …"), so they read the classes excluded and the person's own words about them.
 * - An **other actor**, admitted by a consent in force that covers it (src/http/auth/access.ts), reads
 *   the plan as a send to it at that instant would carry it (src/exchange/consent-at-send.ts): the
 *   goals, interventions and deviations of a class a consent in force excludes taken out with every
 *   reference to them (`withoutInformation` of `excludedClassesAt`), and the description of every
 *   consent's exclusions taken out (`withoutExclusionDescriptions`). A plan that may not be sent once
 *   the excluded information is removed is refused, as `decideSend` withholds it (`planRefused`).
 * - An access judged without an organisation (authentication disabled) names no role, and reads the
 *   whole plan: there is no party to narrow for.
 *
 * An older version (a vread, a history) is narrowed by the classes its own consents in force exclude
 * now and those the current version's exclude now: the current version knows of an exclusion recorded
 * since, as it knows of a withdrawal.
 *
 * A version whose answer narrowing changed has none of what was derived from the whole plan when it
 * was written (src/http/derived-view.ts: the resource texts, the send basis): the read maps and
 * judges the narrowed plan, and never keeps what it derives from it ({@link isNarrowed}). Its version
 * number and recording instant are the stored version's, so ETags and `meta.versionId` stay those of
 * the plan version.
 */
import { excludedClassesAt } from '../exchange/consent-at-send.js';
import { withoutExclusionDescriptions, withoutInformation, type InformationClass, type SipPlan } from '../sip/index.js';
import type { StoredPlan } from '../store/plan-store.js';
import type { AccessRole } from './auth/access.js';
import { storedSendRefusal } from './derived-view.js';
import type { HttpError } from './problem.js';

/** Whether a reader admitted in `role` is answered a narrowed plan: an other actor; a principal, a unit, or no role read it whole. */
export function readsNarrowed(role: AccessRole | undefined): boolean {
  return role === 'otherActor';
}

/** The classes a read of `plan` at `at` leaves out: those its consents in force exclude, and those the current version's do. */
function classesLeftOut(plan: SipPlan, at: Date, current: SipPlan | undefined): InformationClass[] {
  const own = excludedClassesAt(plan, at);
  if (current === undefined || current === plan) return own;
  return [...new Set([...own, ...excludedClassesAt(current, at)])];
}

/**
 * The plan as an other actor reads it at `at` — the plan a send to it would carry, before the
 * judgement of what is left: pure, and the plan itself when nothing is left out.
 */
export function narrowedPlan(plan: SipPlan, at: Date, current?: SipPlan): SipPlan {
  return withoutExclusionDescriptions(withoutInformation(plan, classesLeftOut(plan, at, current)));
}

/** Stored versions made by {@link narrowedRead}: never to be kept as derived data of the version. */
const narrowedVersions = new WeakSet<StoredPlan>();

/** Whether a stored version is a narrowed reading of one, whose derived data must not be kept for the version. */
export function isNarrowed(stored: StoredPlan): boolean {
  return narrowedVersions.has(stored);
}

/**
 * The stored version with the plan a reader admitted in `role` reads at `at`, not yet judged: itself
 * when the reader reads it whole or narrowing leaves it as it is; else the version with the narrowed
 * plan and without its derived data. `current` is the plan's current version, for an older one.
 */
export function narrowedVersion(stored: StoredPlan, role: AccessRole | undefined, at: Date, current?: SipPlan): StoredPlan {
  if (!readsNarrowed(role)) return stored;
  const plan = narrowedPlan(stored.plan, at, current);
  if (plan === stored.plan) return stored;
  const { derived: _whole, ...version } = stored;
  const narrowed: StoredPlan = { ...version, plan };
  narrowedVersions.add(narrowed);
  return narrowed;
}

/**
 * The stored version as a reader admitted in `role` reads it at `at` ({@link narrowedVersion}), after
 * the whole version was judged sendable at `at` when narrowing changed it (its refusal, the 403 a
 * read of it answers, is returned otherwise), as `decideSend` judges the whole plan before it narrows
 * it. The caller judges what it returns as it judges any version (`storedSendRefusal`): for a
 * narrowed one that is `judgeSend` of the narrowed plan, `decideSend`'s judgement of what is left.
 */
export function narrowedRead(stored: StoredPlan, role: AccessRole | undefined, at: Date, current?: SipPlan): StoredPlan | HttpError {
  const narrowed = narrowedVersion(stored, role, at, current);
  if (narrowed === stored) return stored;
  return storedSendRefusal(stored, at) ?? narrowed;
}

/**
 * The statutes a SIP rests on, as the plan and its narrative cite them.
 *
 * The SIP provision of the social services act moved when the new socialtjänstlag (SFS 2025:400)
 * came into force on 2025-07-01: from SoL (2001:453) 2 kap. 7 § to 10 kap. 8–9 §§. HSL (2017:30)
 * 16 kap. 4 § is unchanged. A plan made before the change was made under the former paragraph, so
 * it cites both (../shared/GLOSSARY.md, "Legal references that changed").
 */
import type { Statute } from './model/index.js';

/** The first day of socialtjänstlagen (2025:400). */
export const NEW_SOCIAL_SERVICES_ACT_FROM = '2025-07-01';

export const SIP_PROVISION = {
  socialServices: '10 kap. 8–9 §§ socialtjänstlagen (2025:400)',
  formerSocialServices: '2 kap. 7 § socialtjänstlagen (2001:453)',
  health: '16 kap. 4 § hälso- och sjukvårdslagen (2017:30)',
} as const;

/** The law in force in one line, for rule sources and docs. */
export const SIP_LAW_CITATION = `${SIP_PROVISION.socialServices} (formerly ${SIP_PROVISION.formerSocialServices}); ${SIP_PROVISION.health}`;

/**
 * The legal basis of a plan made (initiated) on `madeOn` (`YYYY-MM-DD`), in Swedish: the law in force,
 * and the former paragraph when the plan was made before 2025-07-01.
 */
export function legalBasis(madeOn: string): string {
  const socialServices =
    madeOn < NEW_SOCIAL_SERVICES_ACT_FROM
      ? `${SIP_PROVISION.formerSocialServices}, numera ${SIP_PROVISION.socialServices}`
      : SIP_PROVISION.socialServices;
  return `Planen upprättas enligt ${socialServices} och ${SIP_PROVISION.health}.`;
}

/** SFS numbers of the acts municipal decisions cite. */
export const ACT = {
  socialServices: '2025:400',
  formerSocialServices: '2001:453',
  /** Lag (1993:387) om stöd och service till vissa funktionshindrade (LSS). */
  lss: '1993:387',
} as const;

/** How an act is named after its provision, in the form Swedish citations use. */
function actName(act: string): string {
  switch (act) {
    case ACT.socialServices:
    case ACT.formerSocialServices:
      return `socialtjänstlagen (${act})`;
    case ACT.lss:
      return `lagen (${act}) om stöd och service till vissa funktionshindrade`;
    default:
      return `lag (${act})`;
  }
}

/** A provision as Swedish law is cited: "11 kap. 1 § socialtjänstlagen (2025:400)", "9 § 4 lagen (1993:387) om …". */
export function citeStatute(statute: Statute): string {
  const chapter = statute.chapter === undefined ? '' : `${statute.chapter} kap. `;
  const point = statute.point === undefined ? '' : ` ${statute.point}`;
  return `${chapter}${statute.section} §${point} ${actName(statute.act)}`;
}

/**
 * The same provision in the numbering in force today: bistånd moved from SoL (2001:453) 4 kap. 1 §
 * to SoL (2025:400) 11 kap. 1 § (GLOSSARY.md, "Legal references that changed"). Any other provision
 * is returned as it is.
 */
export function currentStatute(statute: Statute): Statute {
  if (statute.act === ACT.formerSocialServices && statute.chapter === 4 && statute.section === 1) {
    return { act: ACT.socialServices, chapter: 11, section: 1, ...(statute.point === undefined ? {} : { point: statute.point }) };
  }
  return statute;
}

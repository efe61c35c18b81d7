/**
 * The statutes a SIP rests on, as the plan and its narrative cite them.
 *
 * The SIP provision of the social services act moved when the new socialtjänstlag (SFS 2025:400)
 * came into force on 2025-07-01: from SoL (2001:453) 2 kap. 7 § to 10 kap. 8–9 §§. HSL (2017:30)
 * 16 kap. 4 § is unchanged. A plan made before the change was made under the former paragraph, so
 * it cites both (../shared/GLOSSARY.md, "Legal references that changed").
 */

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

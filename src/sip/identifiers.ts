/**
 * Swedish identifiers used in a SIP: the person's identity number (personnummer, samordningsnummer or
 * reservnummer), HSA-id, organisationsnummer, and the SCB municipality and county codes.
 *
 * Check digits are verified by the `personnummer` and `organisationsnummer` packages; nothing here
 * re-implements the Luhn algorithm.
 */
import personnummerModule from 'personnummer';
import organisationsnummerModule from 'organisationsnummer';
import { z } from 'zod';

/**
 * Both packages declare `export default` in their types but their CommonJS builds assign
 * `module.exports`, so under Node's ESM loader the default import is the class itself.
 */
function commonJsDefault<T>(module: { default: T }): T {
  return (module as { default?: T }).default ?? (module as unknown as T);
}
const Personnummer = commonJsDefault(personnummerModule);
const Organisationsnummer = commonJsDefault(organisationsnummerModule);

/** A calendar date without time zone, as `YYYY-MM-DD`. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const TWELVE_DIGITS = /^(\d{8})-?(\d{4})$/;

/**
 * Parses a personnummer or samordningsnummer written with all twelve digits (`YYYYMMDDNNNN` or
 * `YYYYMMDD-NNNN`). The ten-digit short form is refused because its century depends on the day it is
 * read, which would make the same plan mean different people on different days.
 *
 * @returns the normalised twelve-digit form, its birth date and whether it is a samordningsnummer,
 *   or an English reason why the value is not a valid number.
 */
export function parseIdentityNumber(
  value: string,
): { ok: true; normalized: string; birthDate: CalendarDate; coordination: boolean } | { ok: false; reason: string } {
  const match = TWELVE_DIGITS.exec(value);
  if (!match) {
    return { ok: false, reason: 'must be written with twelve digits, as YYYYMMDD-NNNN or YYYYMMDDNNNN' };
  }
  const normalized = `${match[1] ?? ''}${match[2] ?? ''}`;
  let parsed: InstanceType<typeof Personnummer>;
  try {
    parsed = Personnummer.parse(normalized, { allowCoordinationNumber: true, allowInterimNumber: false });
  } catch {
    return { ok: false, reason: 'is not a valid Swedish identity number (date or check digit is wrong)' };
  }
  const coordination = parsed.isCoordinationNumber();
  // A samordningsnummer carries the day of birth plus 60 (Skatteverket, SKV 707).
  const day = Number(parsed.day) - (coordination ? 60 : 0);
  return {
    ok: true,
    normalized,
    coordination,
    birthDate: { year: Number(parsed.fullYear), month: Number(parsed.month), day },
  };
}

/**
 * A personnummer or samordningsnummer written in any form the `personnummer` package accepts — ten or
 * twelve digits, with or without `-` or `+` (`850314-1239`, `8503141239`, `19850314-1239`,
 * `198503141239`) — in the normalised twelve-digit form plans are stored with.
 *
 * For looking a person up, not for recording one: a plan must state all twelve digits
 * ({@link parseIdentityNumber}), since the century of the short form depends on the day it is read.
 * People search with the short form nevertheless; the package reads its century as Skatteverket
 * writes it, against today's date: the person is under 100 with `-` (or no separator) and 100 or
 * older with `+` (Skatteverket, SKV 704, "Personnummer").
 *
 * @returns undefined when the value is not a valid personnummer or samordningsnummer.
 */
export function searchedIdentityNumber(value: string): { normalized: string; coordination: boolean } | undefined {
  let parsed: InstanceType<typeof Personnummer>;
  try {
    parsed = Personnummer.parse(value.trim(), { allowCoordinationNumber: true, allowInterimNumber: false });
  } catch {
    return undefined;
  }
  return { normalized: parsed.format(true), coordination: parsed.isCoordinationNumber() };
}

/** Formats a normalised twelve-digit identity number as `YYYYMMDD-NNNN` for people to read. */
export function formatIdentityNumber(normalized: string): string {
  return `${normalized.slice(0, 8)}-${normalized.slice(8)}`;
}

/** Personnummer (folkbokförd person), normalised to twelve digits without separator. */
export const personnummerSchema = z.string().transform((value, ctx) => {
  const result = parseIdentityNumber(value);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: `personnummer ${result.reason}` });
    return z.NEVER;
  }
  if (result.coordination) {
    ctx.addIssue({ code: 'custom', message: 'this is a samordningsnummer (day + 60); use system "samordningsnummer"' });
    return z.NEVER;
  }
  return result.normalized;
});

/** Samordningsnummer (coordination number: day of birth + 60), normalised to twelve digits. */
export const samordningsnummerSchema = z.string().transform((value, ctx) => {
  const result = parseIdentityNumber(value);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: `samordningsnummer ${result.reason}` });
    return z.NEVER;
  }
  if (!result.coordination) {
    ctx.addIssue({ code: 'custom', message: 'this is a personnummer, not a samordningsnummer (its day is not 61–91)' });
    return z.NEVER;
  }
  return result.normalized;
});

/**
 * The identity of the person the plan is about. A reservnummer is a temporary number issued by a
 * care provider's own system; its format differs between systems, so it is kept opaque together with
 * the system that issued it (a URI or `urn:oid:`).
 */
export const personIdentifierSchema = z.discriminatedUnion('system', [
  z.strictObject({ system: z.literal('personnummer'), value: personnummerSchema }),
  z.strictObject({ system: z.literal('samordningsnummer'), value: samordningsnummerSchema }),
  z.strictObject({
    system: z.literal('reservnummer'),
    value: z.string().trim().min(1).max(64),
    issuer: z
      .string()
      .regex(/^(urn:oid:[0-2](\.(0|[1-9]\d*))+|https?:\/\/\S+)$/, 'must be the issuing system as urn:oid:… or an http(s) URI'),
  }),
]);
export type PersonIdentifier = z.infer<typeof personIdentifierSchema>;

/**
 * HSA-id: `SE`, the organisationsnummer of the issuing organisation (ten digits, sometimes with the
 * `16` prefix), a hyphen and a suffix of letters and digits; at most 31 characters (Inera, HSA
 * innehåll – HSA-id).
 */
export const hsaIdSchema = z
  .string()
  .max(31, 'HSA-id is at most 31 characters')
  .regex(/^SE(16)?\d{10}-[A-Za-z0-9]+$/, 'HSA-id must look like SE2321000016-ABC1 (SE, organisationsnummer, hyphen, suffix)');

/**
 * The organisationsnummer an HSA-id is issued under, as `NNNNNN-NNNN`: an HSA-id is `SE`, the
 * organisationsnummer of the organisation that issued it (optionally with the century `16`), a
 * hyphen and a suffix (Inera, HSA-id; {@link hsaIdSchema}). Undefined for anything else.
 */
export function organisationsnummerOf(hsaId: string): string | undefined {
  const digits = /^SE(?:16)?(\d{6})(\d{4})-/.exec(hsaId);
  return digits === null ? undefined : `${digits[1] ?? ''}-${digits[2] ?? ''}`;
}

/** Organisationsnummer, checked by the `organisationsnummer` package and normalised to `NNNNNN-NNNN`. */
export const organisationsnummerSchema = z.string().transform((value, ctx) => {
  if (!Organisationsnummer.valid(value)) {
    ctx.addIssue({ code: 'custom', message: 'is not a valid organisationsnummer (check digit or format is wrong)' });
    return z.NEVER;
  }
  return Organisationsnummer.parse(value).format(true);
});

/**
 * Swedish county codes (länskoder) in force since 1998, from SCB's "Kommuner och län" classification.
 * A municipality code's first two digits are the county it lies in.
 */
export const COUNTY_CODES: Readonly<Record<string, string>> = {
  '01': 'Stockholms län',
  '03': 'Uppsala län',
  '04': 'Södermanlands län',
  '05': 'Östergötlands län',
  '06': 'Jönköpings län',
  '07': 'Kronobergs län',
  '08': 'Kalmar län',
  '09': 'Gotlands län',
  '10': 'Blekinge län',
  '12': 'Skåne län',
  '13': 'Hallands län',
  '14': 'Västra Götalands län',
  '17': 'Värmlands län',
  '18': 'Örebro län',
  '19': 'Västmanlands län',
  '20': 'Dalarnas län',
  '21': 'Gävleborgs län',
  '22': 'Västernorrlands län',
  '23': 'Jämtlands län',
  '24': 'Västerbottens län',
  '25': 'Norrbottens län',
};

/** County code (länskod): two digits naming one of Sweden's 21 counties. */
export const countyCodeSchema = z
  .string()
  .refine((code) => Object.hasOwn(COUNTY_CODES, code), 'is not a Swedish county code (SCB länskod, e.g. 20 for Dalarna)');

/** Municipality code (kommunkod): four digits whose first two are the county code (SCB). */
export const municipalityCodeSchema = z
  .string()
  .regex(/^\d{4}$/, 'municipality code must be four digits (SCB kommunkod, e.g. 2080 for Falun)')
  .refine((code) => Object.hasOwn(COUNTY_CODES, code.slice(0, 2)), {
    message: 'municipality code must start with a Swedish county code (01–25, SCB länskod)',
  });

import { describe, expect, it } from 'vitest';
import {
  countyCodeSchema,
  hsaIdSchema,
  municipalityCodeSchema,
  organisationsnummerOf,
  organisationsnummerSchema,
  parseIdentityNumber,
  personIdentifierSchema,
  searchedIdentityNumber,
} from '../../src/sip/index.js';

describe('personnummer and samordningsnummer', () => {
  it('accepts the twelve-digit form with or without hyphen and normalises it', () => {
    expect(personIdentifierSchema.parse({ system: 'personnummer', value: '19121212-1212' })).toEqual({ system: 'personnummer', value: '191212121212' });
    expect(personIdentifierSchema.parse({ system: 'personnummer', value: '191212121212' }).value).toBe('191212121212');
  });

  it('refuses a wrong check digit', () => {
    const result = personIdentifierSchema.safeParse({ system: 'personnummer', value: '19121212-1213' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/check digit/);
  });

  it('refuses the ten-digit form, whose century depends on the day it is read', () => {
    const result = personIdentifierSchema.safeParse({ system: 'personnummer', value: '121212-1212' });
    expect(result.error?.issues[0]?.message).toMatch(/twelve digits/);
  });

  it('reads a searched number in any form people write it: ten digits take the century by - or + (under or over 100)', () => {
    // 121212-1212 names someone born 2012-12-12, 121212+1212 someone born 1912-12-12: true on every
    // day from 2013 to 2111, so under any fixed clock the suite runs with.
    expect(searchedIdentityNumber('121212-1212')).toEqual({ normalized: '201212121212', coordination: false });
    expect(searchedIdentityNumber('121212+1212')).toEqual({ normalized: '191212121212', coordination: false });
    expect(searchedIdentityNumber('1212121212')).toEqual({ normalized: '201212121212', coordination: false });
    expect(searchedIdentityNumber('19121212-1212')).toEqual({ normalized: '191212121212', coordination: false });
    expect(searchedIdentityNumber(' 191212121212 ')).toEqual({ normalized: '191212121212', coordination: false });
    expect(searchedIdentityNumber('900161-0014')).toEqual({ normalized: '199001610014', coordination: true });
    expect(searchedIdentityNumber('19121212-1213')).toBeUndefined();
    expect(searchedIdentityNumber('19121312-1212')).toBeUndefined();
    expect(searchedIdentityNumber('reserv-1')).toBeUndefined();
  });

  it('tells a samordningsnummer (day + 60) from a personnummer, each way round', () => {
    expect(personIdentifierSchema.safeParse({ system: 'samordningsnummer', value: '19900161-0014' }).success).toBe(true);
    expect(parseIdentityNumber('19900161-0016')).toMatchObject({ ok: false });
    const coordination = parseIdentityNumber('19900161-0014');
    // 900161-0014 is the samordningsnummer the personnummer package's own documentation uses.
    expect(coordination).toEqual({ ok: true, normalized: '199001610014', coordination: true, birthDate: { year: 1990, month: 1, day: 1 } });
    expect(personIdentifierSchema.safeParse({ system: 'personnummer', value: '19900161-0014' }).error?.issues[0]?.message).toMatch(/samordningsnummer/);
    expect(personIdentifierSchema.safeParse({ system: 'samordningsnummer', value: '19121212-1212' }).error?.issues[0]?.message).toMatch(/not a samordningsnummer/);
  });

  it('keeps a reservnummer opaque but requires its issuing system', () => {
    expect(personIdentifierSchema.safeParse({ system: 'reservnummer', value: 'RN-1', issuer: 'urn:oid:1.2.752.1' }).success).toBe(true);
    expect(personIdentifierSchema.safeParse({ system: 'reservnummer', value: 'RN-1' }).success).toBe(false);
    expect(personIdentifierSchema.safeParse({ system: 'reservnummer', value: 'RN-1', issuer: 'region x' }).success).toBe(false);
  });
});

describe('organisation identifiers', () => {
  it('HSA-id: SE, organisationsnummer, hyphen, suffix', () => {
    expect(hsaIdSchema.safeParse('SE2321000016-7P5Z').success).toBe(true);
    expect(hsaIdSchema.safeParse('SE162321000016-A1').success).toBe(true);
    expect(hsaIdSchema.safeParse('2321000016-7P5Z').success).toBe(false);
    expect(hsaIdSchema.safeParse('SE2321000016').success).toBe(false);
    expect(hsaIdSchema.safeParse('SE2321000016-7P5Z-ÅÄÖ').success).toBe(false);
    expect(hsaIdSchema.safeParse(`SE2321000016-${'A'.repeat(30)}`).success).toBe(false);
  });

  it('organisationsnummer: check digit verified, normalised with hyphen', () => {
    expect(organisationsnummerSchema.parse('2120002080')).toBe('212000-2080');
    expect(organisationsnummerSchema.safeParse('212000-2081').success).toBe(false);
  });

  it('municipality code: four digits starting with a county code', () => {
    expect(municipalityCodeSchema.safeParse('2080').success).toBe(true);
    expect(municipalityCodeSchema.safeParse('0180').success).toBe(true);
    expect(municipalityCodeSchema.safeParse('1180').error?.issues[0]?.message).toMatch(/county code/);
    expect(municipalityCodeSchema.safeParse('208').success).toBe(false);
    expect(municipalityCodeSchema.safeParse('2680').success).toBe(false);
  });

  it('county code: one of the 21 counties', () => {
    expect(countyCodeSchema.safeParse('20').success).toBe(true);
    expect(countyCodeSchema.safeParse('02').success).toBe(false);
    expect(countyCodeSchema.safeParse('11').success).toBe(false);
  });
});

describe('organisationsnummerOf', () => {
  it('reads the organisationsnummer an HSA-id is issued under, with or without the century 16', () => {
    expect(organisationsnummerOf('SE2120002262-1000')).toBe('212000-2262');
    expect(organisationsnummerOf('SE162321000180-4PSY')).toBe('232100-0180');
  });

  it('reads nothing from what is not an HSA-id', () => {
    expect(organisationsnummerOf('212000-2262')).toBeUndefined();
    expect(organisationsnummerOf('SE21200022621000')).toBeUndefined();
  });
});

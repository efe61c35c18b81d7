/**
 * The plan in plain Swedish, as the person it is about would read it: status, a discharge from
 * inpatient care it is made at, goals, who does what and when, who holds overall responsibility, and
 * the next follow-up (seed 001 §4.5, §3.3.2, §3.6.1; seed 002), and the law the plan is made under
 * (src/sip/law.ts).
 *
 * Output is FHIR narrative XHTML (https://hl7.org/fhir/R4/narrative.html#xhtml): one `div` in the
 * XHTML namespace, only basic formatting elements, every text escaped.
 */
import type { Discharge, Intervention, SipPlan } from '../../sip/index.js';
import { citeStatute, legalBasis, stockholmWallClock, trafficLight } from '../../sip/index.js';
import { CLOSURE_REASON, INPATIENT_CARE, swedishDisplay } from '../code-systems.js';
import { displayOf } from './context.js';

/** A character {@link escapeXml} replaces. */
const XML_SPECIAL = /[&<>"']/;

/** Escapes text for XHTML element content and attribute values. Text with nothing to escape, most of it, is returned as it is without the five passes. */
export function escapeXml(text: string): string {
  if (!XML_SPECIAL.test(text)) return text;
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

const SWEDISH_DATE = new Intl.DateTimeFormat('sv-SE', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const SWEDISH_INSTANT = new Intl.DateTimeFormat('sv-SE', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Stockholm' });

const SWEDISH_MONTHS = ['januari', 'februari', 'mars', 'april', 'maj', 'juni', 'juli', 'augusti', 'september', 'oktober', 'november', 'december'] as const;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days in a month of the proleptic Gregorian calendar (`month` from 1). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `2026-03-05` → `5 mars 2026`, as `Intl.DateTimeFormat('sv-SE', {day: 'numeric', month: 'long',
 * year: 'numeric', timeZone: 'UTC'})` writes it, for a calendar date of the years 1000–9999; anything
 * else (an earlier year, a day the month has not, which `Date` rolls over) is left to `Intl`. `Intl`
 * was a twentieth of mapping a plan (docs/performance.md "Derived texts in one pass"); the two are
 * held equal on every day of 1900–2200 and on generated dates (test/fhir/mapping-helpers.test.ts).
 */
function swedishCalendarDate(value: string): string | undefined {
  const parts = DATE_ONLY.exec(value);
  if (parts === null) return undefined;
  const year = Number(parts[1]);
  const month = Number(parts[2]);
  const day = Number(parts[3]);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return `${String(day)} ${SWEDISH_MONTHS[month - 1] ?? ''} ${String(year)}`;
}

/** `day month year` in Swedish for a day of the years 1000–9999, as `Intl` writes it in sv-SE; undefined for any other year. */
function swedishDayOf(local: Date): string | undefined {
  const year = local.getUTCFullYear();
  if (year < 1000 || year > 9999) return undefined;
  return `${String(local.getUTCDate())} ${SWEDISH_MONTHS[local.getUTCMonth()] ?? ''} ${String(year)}`;
}

/**
 * `2026-03-05` → `5 mars 2026`. A date-only value is a calendar date, so it is formatted in UTC; an
 * instant is written as the date in Stockholm, from its wall clock (src/sip/dates.ts
 * `stockholmWallClock`, the EU rule or the offset Intl gave for that hour) where that is known, by
 * `Intl` otherwise. test/fhir/mapping-helpers.test.ts holds both forms to `Intl`.
 */
export function swedishDate(value: string): string {
  if (value.length !== 10) {
    const instant = new Date(value);
    const local = stockholmWallClock(instant);
    return (local === undefined ? undefined : swedishDayOf(local)) ?? SWEDISH_INSTANT.format(instant);
  }
  return swedishCalendarDate(value) ?? SWEDISH_DATE.format(new Date(`${value}T00:00:00Z`));
}

const SWEDISH_CLOCK = new Intl.DateTimeFormat('sv-SE', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Europe/Stockholm' });

/** Two digits, as `Intl` writes an hour or minute with `2-digit`. */
function twoDigits(value: number): string {
  return value < 10 ? `0${String(value)}` : String(value);
}

/**
 * `2026-03-05T13:00:00+01:00` → `13.00`, the time of day in Stockholm written the Swedish way: from
 * Stockholm's wall clock where it is known, by `Intl` otherwise (before 1980, or an invalid date,
 * where `Intl` throws). A meeting's narrative asks for several, and `formatToParts` made an array of
 * parts for each.
 */
export function swedishClock(value: string): string {
  const instant = new Date(value);
  const local = stockholmWallClock(instant);
  if (local !== undefined) return `${twoDigits(local.getUTCHours())}.${twoDigits(local.getUTCMinutes())}`;
  const parts = SWEDISH_CLOCK.formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)?.value ?? '00';
  return `${part('hour')}.${part('minute')}`;
}

/** `2026-03-05T13:00:00+01:00` → `5 mars 2026 kl. 13.00`, in Stockholm. */
export function swedishDateTime(value: string): string {
  return `${swedishDate(value)} kl. ${swedishClock(value)}`;
}

/** A period between two instants: `5 mars 2026 kl. 13.00–14.30`, or both dates in full when it spans days. */
export function swedishTimeRange(start: string, end: string): string {
  return swedishDate(start) === swedishDate(end) ? `${swedishDateTime(start)}–${swedishClock(end)}` : `${swedishDateTime(start)} – ${swedishDateTime(end)}`;
}

/** A FHIR narrative `div` of blocks of XHTML (already escaped); blocks left undefined are left out. */
export function narrativeDiv(blocks: readonly (string | undefined)[]): string {
  return `<div xmlns="http://www.w3.org/1999/xhtml">${blocks.filter((block) => block !== undefined).join('')}</div>`;
}

/** A paragraph of plain text, escaped. */
export function paragraph(text: string): string {
  return `<p>${escapeXml(text)}</p>`;
}

const INTERVENTION_STATUS: Readonly<Record<Intervention['status'], string>> = {
  planned: 'Planerad',
  ongoing: 'Pågår',
  awaitingDecision: 'I väntan på beslut',
  completed: 'Avslutad',
  cancelled: 'Inställd',
};

const TRAFFIC_LIGHT = {
  red: 'Planering pågår – ingen huvudman har godkänt planen ännu',
  yellow: 'Delvis godkänd – en av huvudmännen har godkänt planen',
  green: 'Godkänd av båda huvudmännen',
} as const;

function nameOf(plan: SipPlan, id: string): string {
  return id === 'individual' ? `${plan.individual.name.given} själv` : (displayOf(plan, id) ?? id);
}

function statusLine(plan: SipPlan): string {
  if (plan.closure) {
    const reason = plan.closure.reason === undefined ? (plan.closure.reasonText ?? '') : swedishDisplay(CLOSURE_REASON, plan.closure.reason);
    return `Planen avslutades ${swedishDate(plan.closure.closedAt)}${reason === '' ? '' : `: ${reason.toLowerCase()}`}.`;
  }
  return `${TRAFFIC_LIGHT[trafficLight(plan)]}.`;
}

/** What each law calls the compulsory care outside hospital, in the narrative. */
const COMPULSORY_CARE_TEXT: Readonly<Record<NonNullable<Discharge['compulsoryCare']>, string>> = {
  LPT: 'öppen psykiatrisk tvångsvård enligt LPT',
  LRV: 'öppen rättspsykiatrisk vård enligt LRV',
};

/**
 * SIP vid utskrivning (seed 001 §3.3.2) in one sentence; with compulsory care, a second one saying
 * that the law prescribes a samordnad vårdplan instead (§3.6.1).
 */
function dischargeLine(discharge: Discharge): string {
  const from = swedishDisplay(INPATIENT_CARE, discharge.from).toLowerCase();
  const day = discharge.dischargedAt === undefined ? '' : ` den ${swedishDate(discharge.dischargedAt)}`;
  const made = `Planen görs vid utskrivning från ${from}${day}.`;
  if (discharge.compulsoryCare === undefined) return made;
  return `${made} Efter utskrivningen ges ${COMPULSORY_CARE_TEXT[discharge.compulsoryCare]}; då ska planeringen enligt lag i stället göras som en samordnad vårdplan.`;
}

function when(intervention: Intervention): string {
  const period = [
    intervention.start === undefined ? '' : `från ${swedishDate(intervention.start)}`,
    intervention.end === undefined ? '' : `till ${swedishDate(intervention.end)}`,
  ].filter((part) => part !== '');
  return [...period, ...(intervention.schedule === undefined ? [] : [intervention.schedule])].join(', ');
}

/** The municipality's decision on the intervention, in one sentence: "Beviljad enligt 11 kap. 1 § socialtjänstlagen (2025:400) den 27 januari 2026". */
function decisionText(intervention: Intervention): string | undefined {
  const decision = intervention.decision;
  if (decision === undefined) return undefined;
  const outcome = decision.outcome === 'granted' ? 'Beviljad' : 'Avslag';
  return `${outcome} enligt ${citeStatute(decision.statute)} den ${swedishDate(decision.decidedAt)}${decision.status === 'overturned' ? ' (beslutet är upphävt)' : ''}`;
}

function statusCell(intervention: Intervention): string {
  const pending = intervention.pendingDecision;
  const decided = decisionText(intervention);
  if (decided !== undefined) return `${INTERVENTION_STATUS[intervention.status]}. ${decided}`;
  if (intervention.status !== 'awaitingDecision' || pending === undefined) return INTERVENTION_STATUS[intervention.status];
  const parts = [
    pending.meanwhile === undefined ? undefined : `Under tiden: ${pending.meanwhile}`,
    pending.expectedDecisionDate === undefined ? undefined : `Beslut väntas ${swedishDate(pending.expectedDecisionDate)}`,
    pending.reportBackBy === undefined ? undefined : `Besked senast ${swedishDate(pending.reportBackBy)}`,
  ].filter((part) => part !== undefined);
  return [INTERVENTION_STATUS.awaitingDecision, ...parts].join('. ');
}

function interventionRow(plan: SipPlan, intervention: Intervention): string {
  const cells = [
    intervention.description,
    nameOf(plan, intervention.responsible),
    intervention.performer === undefined ? '' : nameOf(plan, intervention.performer),
    when(intervention),
    statusCell(intervention),
  ];
  return `<tr>${cells.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`;
}

function nextFollowUp(plan: SipPlan): string {
  const next = plan.followUps.filter((followUp) => followUp.heldAt === undefined).map((followUp) => followUp.date).sort()[0];
  return next === undefined ? 'Ingen uppföljning är planerad.' : `Nästa uppföljning: ${swedishDate(next)}.`;
}

export function toNarrative(plan: SipPlan): string {
  const person = `${plan.individual.name.given} ${plan.individual.name.family}`;
  const goals = plan.goals.filter((goal) => goal.status === 'active');
  const coordinator = plan.coordinator === undefined ? undefined : plan.professionals.find((professional) => professional.id === plan.coordinator);
  const responsibility = [
    plan.overallResponsiblePrincipal === undefined
      ? 'Ingen huvudman har ännu fått det övergripande ansvaret.'
      : `Övergripande ansvar: ${nameOf(plan, plan.overallResponsiblePrincipal)}.`,
    coordinator === undefined
      ? ''
      : ` Huvudansvarig/samordnare: ${nameOf(plan, coordinator.id)}${coordinator.title === undefined ? '' : `, ${coordinator.title}`}.`,
  ].join('');
  return [
    '<div xmlns="http://www.w3.org/1999/xhtml">',
    `<h2>Samordnad individuell plan för ${escapeXml(person)}</h2>`,
    `<p>Version ${String(plan.version)}. ${escapeXml(statusLine(plan))}</p>`,
    plan.discharge === undefined ? '' : `<p>${escapeXml(dischargeLine(plan.discharge))}</p>`,
    '<h3>Mål</h3>',
    goals.length === 0 ? '<p>Inga mål är satta ännu.</p>' : `<ul>${goals.map((goal) => `<li>${escapeXml(goal.description)}</li>`).join('')}</ul>`,
    '<h3>Vem gör vad och när</h3>',
    plan.interventions.length === 0
      ? '<p>Inga insatser är planerade ännu.</p>'
      : `<table><thead><tr><th>Insats</th><th>Ansvarig</th><th>Utförs av</th><th>När</th><th>Status</th></tr></thead><tbody>${plan.interventions.map((intervention) => interventionRow(plan, intervention)).join('')}</tbody></table>`,
    '<h3>Ansvar och uppföljning</h3>',
    `<p>${escapeXml(responsibility)}</p>`,
    `<p>${escapeXml(nextFollowUp(plan))}</p>`,
    `<p>${escapeXml(legalBasis(plan.initiatedAt))}</p>`,
    '</div>',
  ].join('');
}

/**
 * Explicit date conversion between a source's own date text and the SIP's ISO 8601, with Luxon's
 * format tokens and IANA time zones (mappings/README.md, "Dates"). A local time in the source becomes
 * an instant with the offset in force in that zone at that moment (+01:00 or +02:00 in Stockholm).
 */
import { DateTime } from 'luxon';
import type { DateFormat } from './types.js';

/** `$date: "iso"`: ISO 8601 text taken as it is. */
export const ISO_FORMAT = 'iso';

/** Whether a Luxon pattern carries a time of day (an hour token outside quoted literals). */
export function hasTime(pattern: string): boolean {
  return /[Hhms]/.test(pattern.replace(/'[^']*'/g, ''));
}

/** Whether a Luxon pattern carries its own UTC offset or zone. */
export function hasOffset(pattern: string): boolean {
  return /[Zz]/.test(pattern.replace(/'[^']*'/g, ''));
}

export type Converted = { ok: true; value: string } | { ok: false; message: string };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Source text → ISO 8601: a date, or a date-time with offset when the format has a time. */
export function toIso(text: string, format: DateFormat | typeof ISO_FORMAT): Converted {
  if (format === ISO_FORMAT) {
    const parsed = DateTime.fromISO(text, { setZone: true });
    return parsed.isValid ? { ok: true, value: text } : { ok: false, message: `"${text}" is not an ISO 8601 date or date-time` };
  }
  const parsed = DateTime.fromFormat(text, format.pattern, { zone: format.timeZone ?? 'UTC', setZone: hasOffset(format.pattern) });
  if (!parsed.isValid) return { ok: false, message: `"${text}" does not match the date format "${format.pattern}"` };
  if (!hasTime(format.pattern)) return { ok: true, value: parsed.toISODate() };
  return { ok: true, value: parsed.toISO({ suppressMilliseconds: true }) };
}

/** ISO 8601 from the plan → the source's text, a date-time shown in the format's time zone. */
export function fromIso(iso: string, format: DateFormat | typeof ISO_FORMAT): Converted {
  if (format === ISO_FORMAT) return { ok: true, value: iso };
  const dateOnly = ISO_DATE.test(iso);
  const zone = format.timeZone ?? 'UTC';
  const parsed = dateOnly ? DateTime.fromISO(iso, { zone }) : DateTime.fromISO(iso, { setZone: true }).setZone(zone);
  if (!parsed.isValid) return { ok: false, message: `"${iso}" is not an ISO 8601 date or date-time` };
  if (dateOnly && hasTime(format.pattern)) return { ok: false, message: `the date "${iso}" has no time for the format "${format.pattern}"` };
  return { ok: true, value: parsed.toFormat(format.pattern) };
}

/** The `--at <instant>` option shared by the commands that judge a plan at some moment. */
import { UsageError } from './usage-error.js';

/**
 * `now`, or an ISO 8601 date or instant. A date alone (`2026-03-01`) is midnight UTC of that day, as
 * `Date` reads it; give an offset to be exact about Stockholm time.
 */
export function parseInstant(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  if (value === 'now') return new Date();
  const instant = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(instant.getTime())) {
    throw new UsageError(`--at must be an ISO 8601 date or instant, or "now"; got "${value}"`);
  }
  return instant;
}

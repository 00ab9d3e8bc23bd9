// Dates and percentages per locale. Calendar dates ("2026-07-01") are read as UTC days so no time zone
// moves them by a day.

const DAY_MS = 86_400_000;

export function parseDay(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

export function formatDay(day: string | null | undefined, locale: string): string {
  if (!day) return "—";
  const at = parseDay(day);
  if (at === null) return day;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(at);
}

export function formatInstant(instant: string | null | undefined, locale: string): string {
  if (!instant) return "—";
  const at = Date.parse(instant);
  if (Number.isNaN(at)) return instant;
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(at);
}

/** The calendar day of `now` in UTC, "YYYY-MM-DD". */
export function isoDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const at = parseDay(day);
  if (at === null) throw new Error(`not a day: ${day}`);
  return new Date(at + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `due` to `today` (negative when not yet due). */
export function daysOverdue(due: string, today: string): number {
  const a = parseDay(due);
  const b = parseDay(today);
  if (a === null || b === null) return 0;
  return Math.round((b - a) / DAY_MS);
}

/** A ratio string ("0.1825") as a percentage ("18.25%" / "18.25%"); percent=true when already in percent. */
export function formatPercent(value: string | null | undefined, locale: string, digits = 1, percent = false): string {
  if (value === null || value === undefined || value === "") return "—";
  const number = Number(value);
  if (Number.isNaN(number)) return value;
  return new Intl.NumberFormat(locale, {
    style: "percent",
    minimumFractionDigits: 0,
    maximumFractionDigits: digits,
  }).format(percent ? number / 100 : number);
}

export function formatNumber(value: number | string | null | undefined, locale: string, digits = 1): string {
  if (value === null || value === undefined || value === "") return "—";
  const number = typeof value === "number" ? value : Number(value);
  if (Number.isNaN(number)) return String(value);
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(number);
}

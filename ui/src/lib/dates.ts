// Dates and clocks for the whole UI: one facility time zone (IST unless the facility's settings
// say otherwise) for every clock and every "today", and DD-MM-YYYY everywhere a date is shown or
// typed, with month and weekday names in the operator's language. Nothing here asks the
// browser's locale or the PC's time zone: a kiosk whose clock is set to UTC shows IST all the same.

/** The facility's offset from UTC in minutes (India: +330). App.svelte sets it from the config. */
export const facilityClock = { offsetMinutes: 330 };

const MONTHS = {
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  hi: ['जनवरी', 'फ़रवरी', 'मार्च', 'अप्रैल', 'मई', 'जून', 'जुलाई', 'अगस्त', 'सितंबर', 'अक्टूबर', 'नवंबर', 'दिसंबर'],
};
const WEEKDAYS = {
  en: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
  hi: ['रविवार', 'सोमवार', 'मंगलवार', 'बुधवार', 'गुरुवार', 'शुक्रवार', 'शनिवार'],
};
const WEEKDAYS_SHORT = {
  en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
  hi: ['रवि', 'सोम', 'मंगल', 'बुध', 'गुरु', 'शुक्र', 'शनि'],
};
export type DateLang = 'en' | 'hi';

export function monthName(m: number, lang: DateLang): string {
  return MONTHS[lang][m - 1] ?? '';
}
export function weekdayName(wd: number, lang: DateLang, short = false): string {
  return (short ? WEEKDAYS_SHORT : WEEKDAYS)[lang][wd] ?? '';
}

/** The facility's wall clock at `now`, as a Date whose UTC fields are the local ones. */
function wall(now: Date, offset = facilityClock.offsetMinutes): Date {
  return new Date(now.getTime() + offset * 60_000);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Today at the facility, `YYYY-MM-DD` (what the core stores and the dialysis unit uses). */
export function facilityToday(now: Date = new Date(), offset = facilityClock.offsetMinutes): string {
  const w = wall(now, offset);
  return `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}`;
}

/** The facility's time, `HH:MM` (24 h). */
export function facilityTime(now: Date = new Date(), offset = facilityClock.offsetMinutes): string {
  const w = wall(now, offset);
  return `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}`;
}

/** Parts of an ISO date (`YYYY-MM-DD`, a longer timestamp is cut), or null. */
export function isoParts(iso: string | null | undefined): { y: number; m: number; d: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso ?? '');
  if (!m) return null;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return null;
  return { y, m: mo, d };
}

export function daysIn(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** `YYYY-MM-DD` → `DD-MM-YYYY` (anything else is returned as it is). */
export function dmy(iso: string | null | undefined): string {
  const p = isoParts(iso);
  return p ? `${pad(p.d)}-${pad(p.m)}-${p.y}` : (iso ?? '');
}

/** `YYYY-MM-DD` → "मंगलवार, 1 दिसंबर 2026" / "Tuesday, 1 December 2026". */
export function longDate(iso: string, lang: DateLang): string {
  const p = isoParts(iso);
  if (!p) return iso;
  const wd = new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay();
  return `${weekdayName(wd, lang)}, ${p.d} ${monthName(p.m, lang)} ${p.y}`;
}

/** The weekday (0 = Sunday) of an ISO date. */
export function weekdayOf(iso: string): number {
  const p = isoParts(iso);
  return p ? new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay() : 0;
}

/** `DD-MM-YYYY` (also `D-M-YYYY`, `/` or `.` separators) → `YYYY-MM-DD`, or null. */
export function parseDmy(text: string): string | null {
  const m = /^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$/.exec(text);
  if (!m) return null;
  const d = Number(m[1]), mo = Number(m[2]), y = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return null;
  return `${y}-${pad(mo)}-${pad(d)}`;
}

/** Whole years between `iso` (a birth date) and `today`. */
export function ageYears(iso: string | null | undefined, today: string = facilityToday()): number | null {
  const b = isoParts(iso), t = isoParts(today);
  if (!b || !t) return null;
  let a = t.y - b.y;
  if (t.m < b.m || (t.m === b.m && t.d < b.d)) a--;
  return a < 0 ? null : a;
}

/** The weeks of month `y`-`m` for a calendar, Monday first; null cells pad the edges. */
export function monthGrid(y: number, m: number): (number | null)[][] {
  const first = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7; // Monday = 0
  const cells: (number | null)[] = Array(first).fill(null);
  for (let d = 1; d <= daysIn(y, m); d++) cells.push(d);
  while (cells.length % 7) cells.push(null);
  const weeks: (number | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

/** `HH:MM` normalised from what a person types ("7", "7:0", "07.30", "1930"), or null. */
export function parseTime(text: string): string | null {
  const t = text.trim().replace('.', ':');
  let h: number, mi: number;
  let m = /^(\d{1,2})(?::(\d{1,2}))?$/.exec(t);
  if (m) {
    h = Number(m[1]);
    mi = Number(m[2] ?? 0);
  } else if ((m = /^(\d{2})(\d{2})$/.exec(t))) {
    h = Number(m[1]);
    mi = Number(m[2]);
  } else return null;
  if (h > 23 || mi > 59) return null;
  return `${pad(h)}:${pad(mi)}`;
}

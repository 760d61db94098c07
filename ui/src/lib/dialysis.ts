// Dialysis unit: typed wrappers over the dialysis_* Tauri commands, and the screen's strings in
// English and Hindi (kept here, beside the screen, until they move into the shared catalogs).
import { invoke } from '@tauri-apps/api/core';
import { asReport } from './api';
import { ui } from './i18n.svelte';

export type Pool = 'negative' | 'hbv' | 'hcv' | 'hiv' | 'unknown';
export type Serology = 'pos' | 'neg' | 'unknown';
export type BookingStatus = 'confirmed' | 'waitlisted' | 'checked_in' | 'no_show' | 'completed' | 'cancelled';

export const POOLS: Pool[] = ['negative', 'hbv', 'hcv', 'hiv', 'unknown'];

export interface Shift { number: number; start: string; end: string; duration_min: number }
export interface Warning { code: string; en: string; hi: string }

export interface BookingView {
  id: string;
  patient_id: string;
  patient_name: string;
  date: string;
  shift: number;
  machine_id: string | null;
  machine: string | null;
  machine_pool: Pool | null;
  pool: Pool;
  status: BookingStatus;
  priority: number;
  requested_at: string;
  series_id: string | null;
  source: 'local' | 'online';
  online_request_id: string | null;
  pre_weight_kg: number | null;
  post_weight_kg: number | null;
  warnings: string[];
  status_reason: string | null;
}

export interface MachineDay { id: string; name: string; pool: Pool; available: boolean; maintenance: string | null }

export interface DaySchedule {
  date: string;
  weekday: string;
  working_day: boolean;
  holiday: string | null;
  shifts: Shift[];
  machines: MachineDay[];
  bookings: BookingView[];
  waitlist: BookingView[];
}

export interface PoolCount { pool: Pool; machines: number; booked: number; waitlisted: number }
export interface WeekView {
  start: string;
  days: { date: string; weekday: string; working_day: boolean; holiday: string | null;
    slots: { shift: number; pools: PoolCount[] }[] }[];
}

export interface DialysisPatient {
  patient_id: string;
  name: string;
  hbsag: Serology; hbsag_tested_on: string | null;
  hcv: Serology; hcv_tested_on: string | null;
  hiv: Serology; hiv_tested_on: string | null;
  pool: Pool;
  co_infection: boolean;
  stale_from: string | null;
  vascular_access: 'avf' | 'avg' | 'catheter' | 'other' | null;
  dry_weight_kg: number | null;
  eligibility: string | null;
  eligible: boolean;
  updated_at: string;
}

export interface SlotState { status: BookingStatus; machine_id: string | null; machine: string | null }
export interface Move { booking_id: string; patient_id: string; date: string; shift: number; from: SlotState; to: SlotState }

export interface BookedSlot {
  id: string; date: string; shift: number; machine_id: string | null; machine: string | null;
  status: BookingStatus; warnings: string[];
}
export interface BookOutcome {
  series_id: string | null;
  bookings: BookedSlot[];
  refused: { date: string; code: string; field: string; en: string; hi: string }[];
  warnings: Warning[];
}
export interface ChangeOutcome { booking: BookingView; moves: Move[]; warnings: Warning[] }
export interface Machine {
  id: string; name: string; pool: Pool; active: boolean;
  maintenance: { id: string; from_date: string; to_date: string | null; reason: string }[];
}
export interface MachineOutcome { machine: Machine; moves: Move[] }

export interface BookForm {
  patient_id: string; date: string; shift: number; repeat?: string | null; weeks?: number | null; priority?: number | null;
}
export interface PatientForm {
  patient_id: string; hbsag?: Serology | null; hcv?: Serology | null; hiv?: Serology | null; tested_on?: string | null;
  vascular_access?: string | null; dry_weight_kg?: number | null; eligibility?: string | null; eligible?: boolean | null;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asReport(e);
  }
}

export const dialysisApi = {
  day: (day: string) => call<DaySchedule>('dialysis_day', { day }),
  week: (from: string) => call<WeekView>('dialysis_week', { from }),
  waitlist: (from?: string) => call<BookingView[]>('dialysis_waitlist', { from: from ?? null }),
  patientSchedule: (patientId: string, from?: string) =>
    call<{ patient: DialysisPatient; bookings: BookingView[] }>('dialysis_patient_schedule', { patientId, from: from ?? null }),
  machines: () => call<Machine[]>('dialysis_machines'),
  addMachine: (name: string, pool: Pool) => call<MachineOutcome>('dialysis_add_machine', { name, pool }),
  setMaintenance: (machine: string, from: string, to: string | null, reason: string) =>
    call<MachineOutcome>('dialysis_set_maintenance', { machine, from, to, reason }),
  endMaintenance: (machine: string, from: string) => call<MachineOutcome>('dialysis_end_maintenance', { machine, from }),
  shifts: () => call<Shift[]>('dialysis_shifts'),
  setShifts: (times: string, durationMin?: number) => call<Shift[]>('dialysis_set_shifts', { times, durationMin: durationMin ?? null }),
  setPatient: (form: PatientForm) => call<{ patient: DialysisPatient; created: boolean; moves: Move[] }>('dialysis_set_patient', { form }),
  book: (form: BookForm) => call<BookOutcome>('dialysis_book', { form }),
  cancel: (bookingId: string, reason?: string) => call<ChangeOutcome>('dialysis_cancel', { bookingId, reason: reason ?? null }),
  noShow: (bookingId: string) => call<ChangeOutcome>('dialysis_no_show', { bookingId }),
  checkIn: (bookingId: string, preWeightKg?: number | null) =>
    call<ChangeOutcome>('dialysis_check_in', { bookingId, preWeightKg: preWeightKg ?? null }),
  complete: (bookingId: string, postWeightKg?: number | null, preWeightKg?: number | null) =>
    call<ChangeOutcome>('dialysis_complete', { bookingId, postWeightKg: postWeightKg ?? null, preWeightKg: preWeightKg ?? null }),
};

/** Today in the kiosk's local calendar, `YYYY-MM-DD`. */
export function localToday(now: Date = new Date()): string {
  const d = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export const dialysisStrings = {
  en: {
    title: 'Dialysis unit',
    back: 'Back',
    tab_day: 'Day board',
    tab_week: 'Week',
    tab_waitlist: 'Waitlist',
    tab_patient: 'Patient',
    date: 'Date',
    prev_day: '◀ Previous day',
    next_day: 'Next day ▶',
    today: 'Today',
    machine: 'Machine',
    shift: 'Shift',
    free: 'Free',
    closed: 'Unit closed',
    holiday: 'Holiday',
    maintenance: 'Under maintenance',
    waitlist_empty: 'Nobody is waiting.',
    pool_negative: 'Negative',
    pool_hbv: 'HBV (blue)',
    pool_hcv: 'HCV (yellow)',
    pool_hiv: 'HIV',
    pool_unknown: 'Unknown (awaiting results)',
    status_confirmed: 'Booked',
    status_waitlisted: 'Waiting',
    status_checked_in: 'Checked in',
    status_no_show: 'Did not come',
    status_completed: 'Done',
    status_cancelled: 'Cancelled',
    book: 'Book a session',
    book_go: 'Book',
    patient_search: 'Find patient: name, UHID, mobile',
    search: 'Search',
    patient_id: 'Patient',
    repeat: 'Repeat',
    repeat_none: 'Once',
    repeat_mwf: 'Mon / Wed / Fri',
    repeat_tts: 'Tue / Thu / Sat',
    weeks: 'Weeks',
    priority: 'Priority (higher first)',
    booked_n: 'sessions booked',
    waitlisted_n: 'on the waitlist',
    refused: 'Not booked',
    check_in: 'Check in',
    pre_weight: 'Weight before (kg)',
    post_weight: 'Weight after (kg)',
    complete: 'Complete',
    no_show: 'Did not come',
    cancel: 'Cancel booking',
    close: 'Close',
    moved: 'Moved from the waitlist',
    serology: 'Serology',
    hbsag: 'HBsAg',
    hcv: 'Anti-HCV',
    hiv: 'HIV',
    pos: 'Positive',
    neg: 'Negative',
    unknown: 'Unknown',
    tested_on: 'Tested on',
    access: 'Vascular access',
    dry_weight: 'Dry weight (kg)',
    save: 'Save',
    saved: 'Saved',
    stale_from: 'Retest due from',
    co_infection: 'More than one positive marker',
    no_record: 'No dialysis record yet: enter serology below.',
    sessions: 'Sessions',
    load: 'Show',
    week_of: 'Week from',
    machines_short: 'machines',
    booked_short: 'booked',
    waiting_short: 'waiting',
  },
  hi: {
    title: 'डायलिसिस इकाई',
    back: 'वापस',
    tab_day: 'दिन का बोर्ड',
    tab_week: 'सप्ताह',
    tab_waitlist: 'प्रतीक्षा सूची',
    tab_patient: 'मरीज़',
    date: 'तारीख',
    prev_day: '◀ पिछला दिन',
    next_day: 'अगला दिन ▶',
    today: 'आज',
    machine: 'मशीन',
    shift: 'पाली',
    free: 'खाली',
    closed: 'इकाई बंद',
    holiday: 'अवकाश',
    maintenance: 'मरम्मत में',
    waitlist_empty: 'कोई प्रतीक्षा में नहीं है।',
    pool_negative: 'नेगेटिव',
    pool_hbv: 'HBV (नीला)',
    pool_hcv: 'HCV (पीला)',
    pool_hiv: 'HIV',
    pool_unknown: 'अज्ञात (रिपोर्ट बाकी)',
    status_confirmed: 'बुक',
    status_waitlisted: 'प्रतीक्षा में',
    status_checked_in: 'आ गए',
    status_no_show: 'नहीं आए',
    status_completed: 'पूर्ण',
    status_cancelled: 'रद्द',
    book: 'सत्र बुक करें',
    book_go: 'बुक करें',
    patient_search: 'मरीज़ खोजें: नाम, UHID, मोबाइल',
    search: 'खोजें',
    patient_id: 'मरीज़',
    repeat: 'दोहराएँ',
    repeat_none: 'एक बार',
    repeat_mwf: 'सोम / बुध / शुक्र',
    repeat_tts: 'मंगल / गुरु / शनि',
    weeks: 'सप्ताह',
    priority: 'प्राथमिकता (अधिक पहले)',
    booked_n: 'सत्र बुक हुए',
    waitlisted_n: 'प्रतीक्षा सूची में',
    refused: 'बुक नहीं हुआ',
    check_in: 'चेक-इन',
    pre_weight: 'पहले का वज़न (किलो)',
    post_weight: 'बाद का वज़न (किलो)',
    complete: 'पूर्ण करें',
    no_show: 'नहीं आए',
    cancel: 'बुकिंग रद्द करें',
    close: 'बंद करें',
    moved: 'प्रतीक्षा सूची से मशीन मिली',
    serology: 'सीरोलॉजी',
    hbsag: 'HBsAg',
    hcv: 'Anti-HCV',
    hiv: 'HIV',
    pos: 'पॉज़िटिव',
    neg: 'नेगेटिव',
    unknown: 'अज्ञात',
    tested_on: 'जाँच की तारीख',
    access: 'वैस्कुलर एक्सेस',
    dry_weight: 'शुष्क वज़न (किलो)',
    save: 'सहेजें',
    saved: 'सहेजा गया',
    stale_from: 'दोबारा जाँच की तारीख',
    co_infection: 'एक से अधिक पॉज़िटिव जाँच',
    no_record: 'अभी डायलिसिस रिकॉर्ड नहीं है: नीचे सीरोलॉजी भरें।',
    sessions: 'सत्र',
    load: 'दिखाएँ',
    week_of: 'सप्ताह शुरू',
    machines_short: 'मशीन',
    booked_short: 'बुक',
    waiting_short: 'प्रतीक्षा',
  },
} satisfies Record<'en' | 'hi', Record<string, string>>;

export type DialysisKey = keyof typeof dialysisStrings.en;

/** The dialysis string for `key` in the current language. */
export function dt(key: DialysisKey): string {
  return dialysisStrings[ui.lang]?.[key] ?? dialysisStrings.en[key] ?? key;
}

/** A warning or error message in the current language. */
export function msg(m: { en: string; hi: string }): string {
  return ui.lang === 'hi' ? m.hi : m.en;
}

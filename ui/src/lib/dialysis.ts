// Dialysis unit: typed wrappers over the dialysis_* Tauri commands, and helpers for the screen.
// Its strings live in the shared catalogs under `dialysis.*`.
import { facilityToday } from './dates';
import { call } from './api';
import { t, ui } from './i18n.svelte';
import type { Status } from './gen/Status';
import type { AffectedBooking } from './gen/AffectedBooking';
import type { BookForm } from './gen/BookForm';
import type { BookOutcome } from './gen/BookOutcome';
import type { BookedSlot } from './gen/BookedSlot';
import type { BookingView } from './gen/BookingView';
import type { ChangeOutcome } from './gen/ChangeOutcome';
import type { DaySchedule } from './gen/DaySchedule';
import type { DialysisRequest } from './gen/DialysisRequest';
import type { DialysisPatient } from './gen/DialysisPatient';
import type { Holiday } from './gen/Holiday';
import type { Machine } from './gen/Machine';
import type { MachineDay } from './gen/MachineDay';
import type { MachineOutcome } from './gen/MachineOutcome';
import type { Move } from './gen/Move';
import type { OnlineRefusal } from './gen/OnlineRefusal';
import type { PatientForm } from './gen/PatientForm';
import type { PatientOutcome } from './gen/PatientOutcome';
import type { PatientSchedule } from './gen/PatientSchedule';
import type { Pool } from './gen/Pool';
import type { PoolCount } from './gen/PoolCount';
import type { RequestedSlot } from './gen/RequestedSlot';
import type { Serology } from './gen/Serology';
import type { Shift } from './gen/Shift';
import type { SlotState } from './gen/SlotState';
import type { UnitSettings } from './gen/UnitSettings';
import type { UnitSetup } from './gen/UnitSetup';
import type { VascularAccess } from './gen/VascularAccess';
import type { Warning } from './gen/Warning';
import type { WeekView } from './gen/WeekView';
export type { AffectedBooking, BookForm, BookOutcome, BookedSlot, BookingView, ChangeOutcome, DaySchedule, DialysisPatient, DialysisRequest, Holiday, Machine, MachineDay, MachineOutcome, Move, OnlineRefusal, PatientForm, PatientOutcome, PatientSchedule, Pool, PoolCount, RequestedSlot, Serology, Shift, SlotState, UnitSettings, UnitSetup, VascularAccess, Warning, WeekView };

/** Where a booking stands (the generated `Status`, under the name the screens use). */
export type BookingStatus = Status;

export const POOLS: Pool[] = ['negative', 'hbv', 'hcv', 'hiv', 'unknown'];
export const SEROLOGY: Serology[] = ['neg', 'pos', 'unknown'];
export const ACCESS: VascularAccess[] = ['avf', 'avg', 'catheter', 'other'];
/** Weekday codes as the core stores them (labels: `dialysis.day_<code>`). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;


export const dialysisApi = {
  onlineRequests: () => call<DialysisRequest[]>('dialysis_online_requests'),
  unit: (from?: string) => call<UnitSetup>('dialysis_unit', { from: from ?? null }),
  setUnit: (workingDays: string | null, staleDays: number | null) =>
    call<UnitSettings>('dialysis_set_unit', { workingDays, staleDays }),
  addHoliday: (day: string, name: string) => call<Holiday>('dialysis_add_holiday', { day, name }),
  removeHoliday: (day: string) => call<boolean>('dialysis_remove_holiday', { day }),
  day: (day: string) => call<DaySchedule>('dialysis_day', { day }),
  week: (from: string) => call<WeekView>('dialysis_week', { from }),
  waitlist: (from?: string) => call<BookingView[]>('dialysis_waitlist', { from: from ?? null }),
  patientSchedule: (patientId: string, from?: string) =>
    call<PatientSchedule>('dialysis_patient_schedule', { patientId, from: from ?? null }),
  machines: () => call<Machine[]>('dialysis_machines'),
  addMachine: (name: string, pool: Pool) => call<MachineOutcome>('dialysis_add_machine', { name, pool }),
  setMaintenance: (machine: string, from: string | null, to: string | null, reason: string) =>
    call<MachineOutcome>('dialysis_set_maintenance', { machine, from, to, reason }),
  endMaintenance: (machine: string, from?: string | null) => call<MachineOutcome>('dialysis_end_maintenance', { machine, from: from ?? null }),
  renameMachine: (machine: string, name: string) => call<MachineOutcome>('dialysis_rename_machine', { machine, name }),
  setMachinePool: (machine: string, pool: Pool) => call<MachineOutcome>('dialysis_set_machine_pool', { machine, pool }),
  retireMachine: (machine: string) => call<MachineOutcome>('dialysis_retire_machine', { machine }),
  shifts: () => call<Shift[]>('dialysis_shifts'),
  setShifts: (times: string, durationMin?: number) => call<Shift[]>('dialysis_set_shifts', { times, durationMin: durationMin ?? null }),
  setPatient: (form: PatientForm) => call<PatientOutcome>('dialysis_set_patient', { form }),
  book: (form: BookForm) => call<BookOutcome>('dialysis_book', { form }),
  cancel: (bookingId: string, reason?: string) => call<ChangeOutcome>('dialysis_cancel', { bookingId, reason: reason ?? null }),
  noShow: (bookingId: string) => call<ChangeOutcome>('dialysis_no_show', { bookingId }),
  checkIn: (bookingId: string, preWeightKg?: number | null) =>
    call<ChangeOutcome>('dialysis_check_in', { bookingId, preWeightKg: preWeightKg ?? null }),
  complete: (bookingId: string, postWeightKg?: number | null, preWeightKg?: number | null) =>
    call<ChangeOutcome>('dialysis_complete', { bookingId, postWeightKg: postWeightKg ?? null, preWeightKg: preWeightKg ?? null }),
};

/** Today at the facility (IST), `YYYY-MM-DD`: the same "today" as the OPD's, whatever the PC's
 * time zone. */
export function localToday(now: Date = new Date()): string {
  return facilityToday(now);
}

/** Waitlist priority as named levels (the core keeps the number; higher is served first). */
export const PRIORITIES = [
  { value: 0, key: 'priority_normal' },
  { value: 5, key: 'priority_urgent' },
  { value: 10, key: 'priority_emergency' },
] as const;

/** The named level of a priority number. */
export function priorityKey(p: number | null | undefined): string {
  const n = p ?? 0;
  return n >= 10 ? 'priority_emergency' : n >= 5 ? 'priority_urgent' : 'priority_normal';
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}


/** The catalog key of a pool, a booking status, a serology result, a vascular access, a weekday. */
export const poolKey = (p: Pool) => `pool_${p}`;
export const statusKey = (s: string) => `status_${s}`;
export const accessKey = (a: string) => `access_${a}`;
export const dayKey = (d: string) => `day_${d}`;

/** Whether a booking lost a clash with another counter's booking (settled by sync). */
export const syncClash = (b: { status_reason: string | null }) => (b.status_reason ?? '').startsWith('sync_clash');

/** A dialysis screen string (`dialysis.<key>` in the shared catalogs) in the current language. */
export type DialysisKey = string;

/** The dialysis string for `key` in the current language. */
export function dt(key: DialysisKey): string {
  return t(`dialysis.${key}`);
}

/** A warning or error message in the current language. */
export function msg(m: { en: string; hi: string }): string {
  return ui.lang === 'hi' ? m.hi : m.en;
}

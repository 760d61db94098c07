// Typed wrappers over the app's Tauri commands. Every error arrives as an ErrorReport
// (kind + English + Hindi message) from the Rust core.
import { invoke } from '@tauri-apps/api/core';
import type { ExportFormat } from './gen/ExportFormat';
import type { ReportKind } from './gen/ReportKind';
import type { AppStatus } from './gen/AppStatus';
import type { Candidate } from './gen/Candidate';
import type { CashSheet } from './gen/CashSheet';
import type { DayRegister } from './gen/DayRegister';
import type { Department } from './gen/Department';
import type { ConfigPatch } from './gen/ConfigPatch';
import type { CounterSearch } from './gen/CounterSearch';
import type { DeptTotal } from './gen/DeptTotal';
import type { District } from './gen/District';
import type { EditedPatient } from './gen/EditedPatient';
import type { Exported } from './gen/Exported';
import type { ErrorReport } from './gen/ErrorReport';
import type { FacilityConfig } from './gen/FacilityConfig';
import type { FeeWaiver } from './gen/FeeWaiver';
import type { FieldProblem } from './gen/FieldProblem';
import type { FirstRunSetup } from './gen/FirstRunSetup';
import type { HomeSummary } from './gen/HomeSummary';
import type { LgdState } from './gen/LgdState';
import type { LoginName } from './gen/LoginName';
import type { MatchReason } from './gen/MatchReason';
import type { MergeOutcome } from './gen/MergeOutcome';
import type { MonthlyFigures } from './gen/MonthlyFigures';
import type { Patient } from './gen/Patient';
import type { QueryKind } from './gen/QueryKind';
import type { PatientAddress } from './gen/PatientAddress';
import type { PatientInput } from './gen/PatientInput';
import type { PatientRecord } from './gen/PatientRecord';
import type { PrinterChoice } from './gen/PrinterChoice';
import type { RegisterRequest } from './gen/RegisterRequest';
import type { RegisterRow } from './gen/RegisterRow';
import type { Registration } from './gen/Registration';
import type { RegistrationCheck } from './gen/RegistrationCheck';
import type { ReportSummary } from './gen/ReportSummary';
import type { Role } from './gen/Role';
import type { Scanned } from './gen/Scanned';
import type { StaffMember } from './gen/StaffMember';
import type { Visit } from './gen/Visit';
import type { VisitDetail } from './gen/VisitDetail';
export type { AppStatus, Candidate, CashSheet, ConfigPatch, CounterSearch, DayRegister, Department, DeptTotal, District, EditedPatient, ErrorReport, Exported, FacilityConfig, FeeWaiver, FieldProblem, FirstRunSetup, HomeSummary, LgdState, LoginName, MatchReason, MergeOutcome, MonthlyFigures, Patient, PatientAddress, PatientInput, PatientRecord, PrinterChoice, QueryKind, RegisterRequest, RegisterRow, Registration, RegistrationCheck, ReportSummary, Role, Scanned, StaffMember, Visit, VisitDetail };




/** "PASHCHIM CHAMPARAN" → "Pashchim Champaran" (LGD writes names in capitals). */
export function titleCase(s: string): string {
  return s.toLowerCase().replace(/(^|[\s(-])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase());
}

export function asReport(e: unknown): ErrorReport {
  if (e && typeof e === 'object' && 'en' in e && 'hi' in e) return e as ErrorReport;
  const text = String(e);
  return { kind: 'other', en: text, hi: text };
}

/** Invokes a Tauri command: every error arrives as an ErrorReport, and each round trip is timed
 * (see `timed`). Every typed wrapper (here, `admin.ts`, `dialysis.ts`, `sync.ts`, `shares.ts`)
 * goes through it. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const start = performance.now();
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asReport(e);
  } finally {
    timed(cmd, start);
  }
}

/** Each command's round trip (invoke to answer) as a User Timing measure named `ipc <command>`:
 * the webview's performance timeline (and the counter E2E's printed figures) show where a slow
 * screen's time went. The newest 500 are kept. */
let measures = 0;
function timed(cmd: string, start: number) {
  try {
    performance.measure(`ipc ${cmd}`, { start });
    if (++measures > 500) {
      performance.clearMeasures();
      measures = 0;
    }
  } catch {
    /* a webview without User Timing level 3: no figures, nothing else changes */
  }
}

export const api = {
  appStatus: () => call<AppStatus>('app_status'),
  firstRunSetup: (setup: FirstRunSetup) =>
    call<StaffMember>('first_run_setup', { setup }),
  login: (name: string, secret: string) => call<StaffMember>('login', { name, secret }),
  logout: () => call<void>('logout'),
  homeSummary: () => call<HomeSummary>('home_summary'),
  getConfig: () => call<FacilityConfig>('get_config'),
  updateConfig: (patch: ConfigPatch) => call<FacilityConfig>('update_config', { patch }),
  listStaff: () => call<StaffMember[]>('list_staff'),
  addStaff: (staff: { name: string; role: Role; secret: string }) =>
    call<StaffMember>('add_staff', { staff }),
  lgdStates: () => call<LgdState[]>('lgd_states'),
  loginNames: () => call<LoginName[]>('login_names'),
  listPrinters: () => call<PrinterChoice[]>('list_printers'),
  testPrint: (printer: string, format: string) => call<string | null>('test_print', { printer, format }),
  /** Enters or leaves fullscreen; answers whether the window is fullscreen now. */
  setFullscreen: (fullscreen: boolean) => call<boolean>('set_fullscreen', { fullscreen }),
};


export const opd = {
  scan: (raw: string) => call<Scanned>('scan_qr', { raw }),
  register: (request: RegisterRequest) =>
    call<Registration>('register', { request }),
  search: (query: string) => call<CounterSearch>('search_patients', { query }),
  check: (request: RegisterRequest) =>
    call<RegistrationCheck>('check_registration', { request }),
  slipPreview: (visitId: string) => call<string>('slip_preview', { visitId }),
  printSlip: (visitId: string) => call<string | null>('print_slip', { visitId }),
  visitDetail: (visitId: string) => call<VisitDetail>('visit_detail', { visitId }),
};

// Patient records: open (following merges), edit (audited), merge duplicates (administrators).

export type PatientPatch = Partial<Omit<PatientInput, 'address'>> & { address?: PatientAddress };


export const patients = {
  record: (patientId: string) => call<PatientRecord>('patient_record', { patientId }),
  edit: (patientId: string, patch: PatientPatch) => call<EditedPatient>('edit_patient', { patientId, patch }),
  merge: (keepId: string, duplicateId: string) =>
    call<MergeOutcome>('merge_patients', { keepId, duplicateId }),
};

// The counter's books (Reports screen): register, summary, cash by staff, monthly figures,
// export to a file the operator chose, print.


export type { ReportKind, ExportFormat };

export const reports = {
  register: (date: string) => call<DayRegister>('report_register', { date }),
  summary: (from: string, to: string) => call<ReportSummary>('report_summary', { from, to }),
  cash: (date: string) => call<CashSheet>('report_cash', { date }),
  monthly: (month: string) => call<MonthlyFigures>('report_monthly', { month }),
  /** Writes the report to `path` (from the save dialog, or a test's explicit path). */
  export: (kind: ReportKind, format: ExportFormat, from: string, to: string, path: string) =>
    call<Exported>('report_export', { kind, format, from, to, path }),
  print: (kind: ReportKind, date: string, printer?: string) =>
    call<string | null>('report_print', { kind, date, printer: printer ?? null }),
};

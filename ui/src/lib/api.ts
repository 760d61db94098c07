// Typed wrappers over the app's Tauri commands. Every error arrives as an ErrorReport
// (kind + English + Hindi message) from the Rust core.
import { invoke } from '@tauri-apps/api/core';

export type Role = 'reception' | 'dialysis_nurse' | 'admin';

export interface ErrorReport {
  kind: 'invalid' | 'not_found' | 'auth' | 'other';
  field?: string;
  en: string;
  hi: string;
  /** A stable code for disk and printer failures, e.g. `storage.corrupt`, `print.stopped`. */
  problem?: string | null;
}

export interface StaffMember {
  id: string;
  name: string;
  role: Role;
  active: boolean;
}

export interface AppStatus {
  first_run: boolean;
  configured: boolean;
  facility_name_en: string;
  facility_name_hi: string;
  idle_lock_minutes: number;
  pending_sync: number;
  /** The database is encrypted and not unlocked yet: the first staff login unlocks it. */
  locked: boolean;
  staff: StaffMember | null;
}

export interface Department {
  code: string;
  name_en: string;
  name_hi: string;
  room: string;
  fee_rupees: number;
  validity_days: number;
  active: boolean;
}

export interface FeeWaiver {
  code: string;
  name_en: string;
  name_hi: string;
  active: boolean;
}

export interface FacilityConfig {
  configured: boolean;
  name_en: string;
  name_hi: string;
  hfr_id: string | null;
  state_lgd: number | null;
  district_lgd: number | null;
  address: string;
  kiosk_letter: string | null;
  public_base_url: string | null;
  facility_code: string | null;
  printer: string | null;
  printer_format: string | null;
  counter_id?: string | null;
  share_base_url?: string | null;
  utc_offset_minutes: number;
  idle_lock_minutes: number;
  /** Print the slip as soon as the token is issued. */
  auto_print: boolean;
  state_name: string | null;
  district_name: string | null;
  departments: Department[];
  fee_waivers: FeeWaiver[];
}

export type ConfigPatch = Partial<
  Omit<FacilityConfig, 'configured' | 'state_name' | 'district_name' | 'hfr_id' | 'public_base_url' | 'kiosk_letter' | 'facility_code' | 'printer' | 'printer_format'>
> & { hfr_id?: string; public_base_url?: string; kiosk_letter?: string; facility_code?: string; printer?: string; printer_format?: string; counter_id?: string; share_base_url?: string };

export interface HomeSummary {
  facility_name_en: string;
  facility_name_hi: string;
  date: string;
  registrations_today: number;
  abha_linked_today: number;
  /** Of today's registrations, those from an ABHA scan-and-share. */
  scan_share_today: number;
  pending_sync: number;
}

export interface LgdState {
  state_code: number;
  state_name: string;
  state_name_hi?: string | null;
  districts: { district_code: number; district_name: string; district_name_hi?: string | null }[];
}

/** "PASHCHIM CHAMPARAN" → "Pashchim Champaran" (LGD writes names in capitals). */
export function titleCase(s: string): string {
  return s.toLowerCase().replace(/(^|[\s(-])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase());
}

export function asReport(e: unknown): ErrorReport {
  if (e && typeof e === 'object' && 'en' in e && 'hi' in e) return e as ErrorReport;
  const text = String(e);
  return { kind: 'other', en: text, hi: text };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asReport(e);
  }
}

export const api = {
  appStatus: () => call<AppStatus>('app_status'),
  firstRunSetup: (setup: { facility: ConfigPatch; admin_name: string; admin_secret: string }) =>
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
  loginNames: () => call<{ name: string; role: Role }[]>('login_names'),
  listPrinters: () => call<{ name: string; is_default: boolean }[]>('list_printers'),
  testPrint: (printer: string, format: string) => call<string | null>('test_print', { printer, format }),
};

export interface PatientAddress {
  house?: string | null;
  street?: string | null;
  landmark?: string | null;
  locality?: string | null;
  vtc?: string | null;
  post_office?: string | null;
  sub_district?: string | null;
  district?: string | null;
  state?: string | null;
  state_lgd?: number | null;
  district_lgd?: number | null;
  pincode?: string | null;
}

export interface PatientInput {
  name: string;
  name_hi?: string | null;
  gender: string;
  dob?: string | null;
  age_years?: number | null;
  guardian?: string | { relation: string; name: string } | null;
  mobile?: string | null;
  aadhaar?: string | null;
  aadhaar_last4?: string | null;
  aadhaar_hash?: string | null;
  abha_number?: string | null;
  abha_address?: string | null;
  category?: string | null;
  address: PatientAddress;
  aadhaar_consent?: boolean | null;
}

export interface Scanned {
  kind: 'aadhaar_secure_qr' | 'aadhaar_xml_qr' | 'abha_qr';
  signature: 'valid' | 'invalid' | 'unverified' | null;
  warnings: { code: string; en: string; hi: string }[];
  input: PatientInput;
  has_photo: boolean;
  /** The Aadhaar photo as a PNG data URL (decoded from JPEG 2000 in Rust; never stored). */
  photo_png?: string | null;
  /** Why the photo cannot be shown, when it cannot. */
  photo_note?: { en: string; hi: string } | null;
  existing: Patient | null;
}

export interface Patient {
  id: string;
  uhid: string;
  name: string;
  name_hi: string | null;
  gender: string;
  dob: string | null;
  dob_approximate: boolean;
  year_of_birth: number | null;
  guardian_relation: string | null;
  guardian_name: string | null;
  mobile: string | null;
  address: PatientAddress;
  aadhaar_last4: string | null;
  abha_number: string | null;
  abha_address: string | null;
  category: string;
  aadhaar_consent?: boolean;
  merged_into?: string | null;
  created_at?: string;
  updated_at?: string;
}

export interface Registration {
  patient_id: string;
  uhid: string;
  visit_id: string;
  token: string;
  returning: boolean;
  visit_type: 'new' | 'follow_up';
  fee_rupees: number;
  valid_until: string;
  warnings: { en: string; hi: string }[];
  possible_duplicates: { patient_id: string; uhid: string; name: string; year_of_birth: number | null }[];
  /** The patient already had a token for this department today. */
  repeat_today: boolean;
  /** Where the token sends the patient (shown with the token everywhere). */
  department: { code: string; name_en: string; name_hi: string; room: string };
  /** A registration from an ABHA scan and share: the share's ABHA address. */
  abha_address?: string | null;
}

export type MatchReason = 'abha' | 'aadhaar' | 'mobile' | 'name_year_place';

export interface Candidate {
  patient: Patient;
  reasons: MatchReason[];
  last_visit: string | null;
  /** Registering would pick this patient by itself (same ABHA or Aadhaar). */
  certain: boolean;
}

export interface FieldProblem {
  field: string;
  en: string;
  hi: string;
}

export interface RegistrationCheck {
  problems: FieldProblem[];
  candidates: Candidate[];
  repeat_today: boolean;
}

export interface SearchResult {
  kind: string;
  patients: Patient[];
  /** More patients match than are shown. */
  more: boolean;
  /** Last visit date by patient id. */
  last_visits: Record<string, string>;
}

export interface Visit {
  id: string;
  patient_id: string;
  department: string;
  visit_date: string;
  token: string;
  visit_type: string;
  fee_rupees: number;
  valid_until: string;
  status: string;
}

export const opd = {
  scan: (raw: string) => call<Scanned>('scan_qr', { raw }),
  register: (request: { department: string; patient?: PatientInput; patient_id?: string; waiver?: string }) =>
    call<Registration>('register', { request }),
  search: (query: string) => call<SearchResult>('search_patients', { query }),
  check: (request: { department: string; patient?: PatientInput; patient_id?: string }) =>
    call<RegistrationCheck>('check_registration', { request }),
  slipPreview: (visitId: string) => call<string>('slip_preview', { visitId }),
  printSlip: (visitId: string) => call<string | null>('print_slip', { visitId }),
  visitDetail: (visitId: string) => call<{ visit: Visit; patient: Patient }>('visit_detail', { visitId }),
};

// Patient records: open (following merges), edit (audited), merge duplicates (administrators).
export interface PatientRecord {
  patient: Patient;
  visits: Visit[];
  /** The id asked for was merged into `patient`. */
  redirected_from: string | null;
}

export type PatientPatch = Partial<Omit<PatientInput, 'address'>> & { address?: PatientAddress };

export type EditedPatient = Patient & { changed_fields: string[]; warnings: { en: string; hi: string }[] };

export interface MergeOutcome {
  kept: string;
  merged: string;
  visits_moved: number;
  carried_over: string[];
  dialysis_moved: boolean;
  patient: Patient;
}

export const patients = {
  record: (patientId: string) => call<PatientRecord>('patient_record', { patientId }),
  edit: (patientId: string, patch: PatientPatch) => call<EditedPatient>('edit_patient', { patientId, patch }),
  merge: (keepId: string, duplicateId: string) =>
    call<MergeOutcome>('merge_patients', { keepId, duplicateId }),
};

// The counter's books (Reports screen): register, summary, cash by staff, monthly figures,
// export to a file the operator chose, print.
export interface RegisterRow {
  serial: number;
  visit_id: string;
  date: string;
  time: string;
  token: string;
  uhid: string;
  name: string;
  name_hi: string | null;
  age_sex: string;
  guardian: string;
  locality: string;
  department: string;
  visit_type: 'new' | 'follow_up';
  fee: number;
  waiver: string | null;
  cancelled: boolean;
  staff: string;
}

export interface DeptTotal {
  code: string;
  name_en: string;
  name_hi: string;
  registrations: number;
  new: number;
  follow_up: number;
  cancelled: number;
  fees_collected: number;
  waived: number;
}

export interface DayRegister {
  from: string;
  to: string;
  rows: RegisterRow[];
  totals: DeptTotal[];
}

export interface ReportSummary {
  from: string;
  to: string;
  registrations: number;
  new: number;
  follow_up: number;
  cancelled: number;
  by_department: { code: string; name_en: string; name_hi: string; registrations: number; cancelled: number; fees_collected: number }[];
  by_gender: { M: number; F: number; O: number };
  by_age_band: { band: string; registrations: number }[];
  fees_collected: number;
  waivers: { code: string; name_en: string; name_hi: string; count: number }[];
  abha_linked: number;
  abha_linked_pct: number;
  /** Registrations that came by ABHA scan and share. */
  scan_share: number;
  dialysis: { completed: number; no_show: number; cancelled: number; by_pool: { pool: string; completed: number; no_show: number; cancelled: number }[] };
  by_hour: { hour: number; registrations: number }[];
}

export interface CashSheet {
  date: string;
  staff: { staff: string; actor: string; visits: number; fees_collected: number; waived: number; refunds: number; refunded: number;
    shifts: { shift: string; visits: number; fees_collected: number; waived: number }[] }[];
  refunds: { visit_id: string; token: string; department: string; time: string; fee: number; staff: string }[];
  totals: { visits: number; fees_collected: number; waived: number; refunds: number; refunded: number };
}

export interface MonthlyFigures {
  month: string;
  from: string;
  to: string;
  items: { key: string; hmis_code: string | null; label_en: string; label_hi: string; value: number }[];
}

export type ReportKind = 'register' | 'cash' | 'day_sheet' | 'summary';
export type ExportFormat = 'csv' | 'pdf' | 'json' | 'pdf80mm';

export const reports = {
  register: (date: string) => call<DayRegister>('report_register', { date }),
  summary: (from: string, to: string) => call<ReportSummary>('report_summary', { from, to }),
  cash: (date: string) => call<CashSheet>('report_cash', { date }),
  monthly: (month: string) => call<MonthlyFigures>('report_monthly', { month }),
  /** Writes the report to `path` (from the save dialog, or a test's explicit path). */
  export: (kind: ReportKind, format: ExportFormat, from: string, to: string, path: string) =>
    call<{ path: string; bytes: number }>('report_export', { kind, format, from, to, path }),
  print: (kind: ReportKind, date: string, printer?: string) =>
    call<string | null>('report_print', { kind, date, printer: printer ?? null }),
};

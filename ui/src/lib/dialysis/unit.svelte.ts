// What the dialysis screen's tabs share: the day looked at, the chosen patient (always shown, never
// carried silently), whether a call is running, and the last outcome (warnings, bookings moved,
// patients affected by a machine change). Errors and "saved" go to the app-wide announced toast;
// a new action clears the old message.
import { asReport, type Patient } from '../api';
import { clearToast, showToast } from '../toast.svelte';
import { dt, localToday, type AffectedBooking, type Move, type Warning } from '../dialysis';

export const unit = $state({
  day: localToday(),
  patientId: '',
  patientName: '',
  busy: false,
  warnings: [] as Warning[],
  moves: [] as Move[],
  affected: [] as AffectedBooking[],
});

/** Runs a call: clears the old message, shows an error in the toast, returns undefined on error. */
export async function run<T>(f: () => Promise<T>): Promise<T | undefined> {
  clearToast();
  unit.busy = true;
  try {
    return await f();
  } catch (e) {
    showToast('error', asReport(e));
    return undefined;
  } finally {
    unit.busy = false;
  }
}

/** "Saved", announced. */
export function saved(): void {
  showToast('ok', dt('saved'));
}

/** Shows what an action did (replacing the previous outcome). */
export function outcome(warnings: Warning[] = [], moves: Move[] = [], affected: AffectedBooking[] = []): void {
  unit.warnings = warnings;
  unit.moves = moves;
  unit.affected = affected;
}

export function choosePatient(p: Pick<Patient, 'id' | 'name'>): void {
  unit.patientId = p.id;
  unit.patientName = p.name;
}

export function clearPatient(): void {
  unit.patientId = '';
  unit.patientName = '';
}

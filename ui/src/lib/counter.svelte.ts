// State the counter keeps across screens: the scan handed from the app-wide scanner to the
// registration screen, and the half-typed registration (kept through an idle lock and given
// back after login). Memory only: nothing of it is written anywhere.
import type { PatientInput } from './api';
import type { ScanDetector } from './scanner';

export const scanBus = $state<{ raw: string | null; gap: number; seq: number }>({ raw: null, gap: 0, seq: 0 });

/** The app's one scanner (so the registration screen can teach it a parsed burst's timing). */
export const detectorRef: { current: ScanDetector | null } = { current: null };

export interface RegisterDraft {
  form: PatientInput;
  guardianRel: string;
  guardianName: string;
  department: string;
  chosenId: string | null;
  moreOpen: boolean;
  /** The scan card, chosen patient and consent answer (the registration screen's own shape). */
  extra?: unknown;
}

export const draftState = $state<{ draft: RegisterDraft | null }>({ draft: null });

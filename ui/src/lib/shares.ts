// ABHA scan-and-share: the shared-profiles queue and the counter's QR (Tauri commands in
// src-tauri/src/share_commands.rs).
import { call, type RegisterRequest } from './api';
import type { CounterQr } from './gen/CounterQr';
import type { SharePrefill } from './gen/SharePrefill';
import type { ShareRegistration } from './gen/ShareRegistration';
import type { SharedProfile } from './gen/SharedProfile';
export type { CounterQr, SharePrefill, ShareRegistration, SharedProfile };



export const shares = {
  list: () => call<SharedProfile[]>('shares_list'),
  prefill: (shareId: string) => call<SharePrefill>('shares_prefill', { shareId }),
  /** Registers a share as the operator confirmed it (`department` and `patient` or `patient_id`). */
  register: (shareId: string, request: RegisterRequest) =>
    call<ShareRegistration>('shares_register', { shareId, request }),
  counterQr: () => call<CounterQr>('shares_counter_qr'),
  printPoster: () => call<string>('shares_print_poster'),
};

/** The queue as shown: waiting shares first (by token, this counter's first as the core
 * sorts them), then the rest; each with the i18n key of its status. */
export function queueView(list: SharedProfile[]): { waiting: SharedProfile[]; done: SharedProfile[] } {
  return {
    waiting: list.filter((s) => s.status === 'waiting'),
    done: list.filter((s) => s.status !== 'waiting'),
  };
}

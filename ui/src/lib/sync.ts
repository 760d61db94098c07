// Sync with the state server: the status strip's view, "sync now", enrollment and the list of
// records the server refused. Typed wrappers over the Rust core's sync commands.
import { dmy, facilityTime, facilityToday } from './dates';
import { call } from './api';
import type { DeadLetter } from './gen/DeadLetter';
import type { Enrolled } from './gen/Enrolled';
import type { SyncProblem } from './gen/SyncProblem';
import type { SyncView } from './gen/SyncView';
export type { DeadLetter, Enrolled, SyncProblem, SyncView };


export const sync = {
  status: () => call<SyncView>('sync_status'),
  now: () => call<SyncView>('sync_now'),
  enroll: (server: string, code: string) => call<Enrolled>('sync_enroll', { server, code }),
  deadLetters: () => call<DeadLetter[]>('sync_dead_letters'),
};

/** Which pill the strip shows. */
export type SyncState = 'online' | 'offline' | 'local' | 'error';

/** The strip's state: not enrolled is "local only", unreachable is "offline", a failing server or
 * a refused device is an error the operator must act on. */
export function syncState(v: SyncView | null): SyncState {
  if (!v || !v.enrolled) return 'local';
  if (v.problem === 'offline' || v.problem === 'transport') return 'offline';
  if (v.problem) return 'error';
  return v.online ? 'online' : 'offline';
}

/** "10:42" for today, "21-11-2026 10:42" before (the facility's clock, not the PC's); empty
 * when never. */
export function lastSyncText(ms: number | null, now = new Date()): string {
  if (ms === null) return '';
  const d = new Date(ms);
  const time = facilityTime(d);
  if (facilityToday(d) === facilityToday(now)) return time;
  return `${dmy(facilityToday(d))} ${time}`;
}

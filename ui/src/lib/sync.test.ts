import { describe, expect, it } from 'vitest';
import { lastSyncText, syncState, type SyncView } from './sync';

const base: SyncView = {
  enrolled: true, server: 'https://state.example', online: true, syncing: false, pending: 0,
  dead_letters: 0, last_sync_at_ms: null, restores: 0, last_restore_at_ms: null, problem: null, detail: null,
  insecure: false, recovery_escrow: 'none',
};

describe('syncState', () => {
  it('is local only before enrollment, whatever the engine says', () => {
    expect(syncState({ ...base, enrolled: false, problem: 'not_enrolled' })).toBe('local');
    expect(syncState(null)).toBe('local');
  });
  it('treats an unreachable server as offline, not as an error', () => {
    expect(syncState({ ...base, online: false, problem: 'offline' })).toBe('offline');
    expect(syncState({ ...base, problem: 'transport' })).toBe('offline');
  });
  it('flags a revoked device or failing server as an error', () => {
    expect(syncState({ ...base, online: false, problem: 'revoked' })).toBe('error');
    expect(syncState({ ...base, problem: 'server' })).toBe('error');
  });
  it('is online after a good sync', () => {
    expect(syncState(base)).toBe('online');
  });
});

describe('lastSyncText', () => {
  it('shows only the time for today and the date before, on the facility clock (IST)', () => {
    const now = new Date(Date.UTC(2026, 10, 22, 9, 30)); // 15:00 IST
    expect(lastSyncText(Date.UTC(2026, 10, 22, 5, 12), now)).toBe('10:42');
    expect(lastSyncText(Date.UTC(2026, 10, 21, 5, 12), now)).toBe('21-11-2026 10:42');
    // 20:00 UTC on the 21st is already the 22nd in India: today.
    expect(lastSyncText(Date.UTC(2026, 10, 21, 20, 0), now)).toBe('01:30');
    expect(lastSyncText(null, now)).toBe('');
  });
});

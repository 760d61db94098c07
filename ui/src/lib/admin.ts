// The administrator's staff list, backups, free disk space and the recovery screen: typed
// wrappers over the Rust core's commands (src-tauri/src/admin_commands.rs).
import { invoke } from '@tauri-apps/api/core';
import { asReport, type StaffMember } from './api';

export type StaffAccount = StaffMember & {
  failed_attempts: number;
  locked_until: string | null;
  last_login_at: string | null;
};

export interface BackupRun {
  at: string;
  reason: string;
  file: string | null;
  bytes: number | null;
  ok: boolean;
  error: string | null;
}

export interface BackupStatus {
  dir: string;
  dir_is_default: boolean;
  every_hours: number;
  end_of_day: string;
  last_good: BackupRun | null;
  last_attempt: BackupRun | null;
  stale: boolean;
}

export interface BackupFile {
  file: string;
  name: string;
  local_time: string;
  bytes: number;
}

export interface DiskSpace {
  free_bytes: number;
  total_bytes: number;
  low: boolean;
}

export type StorageProblem = 'disk_full' | 'read_only' | 'io' | 'corrupt';

export interface StartupCheck {
  ok: boolean;
  problem: StorageProblem | null;
  message: { en: string; hi: string } | null;
  latest_backup: BackupFile | null;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asReport(e);
  }
}

export const staffAdmin = {
  list: () => call<StaffAccount[]>('staff_accounts'),
  setActive: (staffId: string, active: boolean) => call<StaffAccount>('staff_set_active', { staffId, active }),
  resetPin: (staffId: string, secret: string) => call<StaffAccount>('staff_reset_pin', { staffId, secret }),
  unlock: (staffId: string) => call<StaffAccount>('staff_unlock', { staffId }),
};

export const backups = {
  status: () => call<BackupStatus>('backup_status'),
  now: () => call<BackupFile & { created_at: string }>('backup_now'),
  /** An absolute folder (a USB stick's), or '' for the default beside the database. */
  setDir: (dir: string) => call<unknown>('update_config', { patch: { backup_dir: dir } }),
};

export const disk = {
  space: () => call<DiskSpace>('disk_space'),
};

export const recovery = {
  status: () => call<StartupCheck>('recovery_status'),
  restore: () => call<{ restored_from: string; replaced_kept_at: string | null }>('recovery_restore'),
  restart: () => call<void>('restart_app'),
};

/** A size in MB or GB for the operator. */
export function sizeText(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.max(0, Math.round(bytes / 1e6))} MB`;
}

/** How long ago an RFC 3339 instant was, in whole hours (for "last backup: 3 h ago"). */
export function hoursAgo(at: string, now: Date = new Date()): number {
  return Math.max(0, Math.floor((now.getTime() - new Date(at).getTime()) / 3_600_000));
}

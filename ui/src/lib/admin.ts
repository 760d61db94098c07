// The administrator's staff list, backups, free disk space and the recovery screen: typed
// wrappers over the Rust core's commands (src-tauri/src/admin_commands.rs).
import { call, type FacilityConfig } from './api';
import type { BackupFile } from './gen/BackupFile';
import type { BackupRun } from './gen/BackupRun';
import type { BackupStatus } from './gen/BackupStatus';
import type { Created } from './gen/Created';
import type { DiskSpace } from './gen/DiskSpace';
import type { Restored } from './gen/Restored';
import type { StaffAccount } from './gen/StaffAccount';
import type { StartupCheck } from './gen/StartupCheck';
import type { StorageProblem } from './gen/StorageProblem';
export type { BackupFile, BackupRun, BackupStatus, Created, DiskSpace, Restored, StaffAccount, StartupCheck, StorageProblem };


export const staffAdmin = {
  list: () => call<StaffAccount[]>('staff_accounts'),
  setActive: (staffId: string, active: boolean) => call<StaffAccount>('staff_set_active', { staffId, active }),
  resetPin: (staffId: string, secret: string) => call<StaffAccount>('staff_reset_pin', { staffId, secret }),
  unlock: (staffId: string) => call<StaffAccount>('staff_unlock', { staffId }),
};

export const backups = {
  status: () => call<BackupStatus>('backup_status'),
  now: () => call<Created>('backup_now'),
  /** An absolute folder (a USB stick's), or '' for the default beside the database. */
  setDir: (dir: string) => call<FacilityConfig>('update_config', { patch: { backup_dir: dir } }),
};

export const disk = {
  space: () => call<DiskSpace>('disk_space'),
};

export const recovery = {
  status: () => call<StartupCheck>('recovery_status'),
  restore: () => call<Restored>('recovery_restore'),
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

// The one place a message appears when it has no control of its own to sit beside: a fixed toast
// under the status strip, announced to screen readers (aria-live), in the operator's language.
// A new action clears the old message (clearToast), so nothing stale is left on screen.
import type { ErrorReport } from './api';

export interface ToastMsg {
  id: number;
  kind: 'error' | 'ok' | 'info';
  /** Shown as it is… */
  text?: string;
  /** …or in the current language. */
  report?: ErrorReport;
}

export const toastState = $state<{ current: ToastMsg | null }>({ current: null });
let seq = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

export function showToast(kind: ToastMsg['kind'], msg: string | ErrorReport, ms = kind === 'error' ? 12_000 : 5_000) {
  seq += 1;
  toastState.current = typeof msg === 'string' ? { id: seq, kind, text: msg } : { id: seq, kind, report: msg };
  if (timer) clearTimeout(timer);
  const mine = seq;
  timer = setTimeout(() => {
    if (toastState.current?.id === mine) toastState.current = null;
  }, ms);
}

export function clearToast() {
  toastState.current = null;
}

// Recognises a USB QR scanner that "types" into the app: a burst of keystrokes far faster than a
// person types, ending in Enter. One detector runs for the whole app (App.svelte, capture phase),
// so a scan works on any screen. Every keystroke of a burst is swallowed — no field, button or
// scroll sees it: the first key of a burst cannot be told from typing, so the field it landed in
// is put back as it was; from the second fast key on, keys are held back (and given back to the
// field, in order, if the burst turns out to be a person typing quickly).
//
// The timing threshold adapts to the scanner: it starts generous enough for a slow 40 ms-per-key
// scanner, is learned from bursts that parsed (twice the scanner's typical gap, so a fast scanner
// tightens it), and can be set in Settings. A QR payload typed or pasted into a box at any speed
// is recognised by its shape (`looksLikeQr`), not its timing.

export interface ScannerOptions {
  /** Longest gap between two keystrokes of a burst (ms). */
  maxGapMs?: number;
  /** Shortest payload accepted as a scan (an ABHA QR is ~150 characters, Aadhaar ~2,000). */
  minLength?: number;
  /** Timer functions (tests pass fake ones). */
  schedule?: (fn: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
}

/** The default threshold: above a slow scanner's ~40 ms per key, below people's ~100–200 ms. */
export const DEFAULT_GAP_MS = 60;
/** The threshold is never learned below or above these. */
export const MIN_GAP_MS = 40;
export const MAX_GAP_MS = 120;

/** The threshold learned from a scanner whose keys came `typicalGapMs` apart. */
export function learnedThreshold(typicalGapMs: number): number {
  return Math.round(Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, typicalGapMs * 2 + 10)));
}

/** The text is a QR payload (ABHA JSON, Aadhaar XML, Aadhaar Secure QR digits), not a search. */
export function looksLikeQr(text: string): boolean {
  const t = text.trim();
  if (t.length < 20) return false;
  if (t.startsWith('{') && t.includes('"')) return true;
  if (t.startsWith('<') && /<\??(xml|PrintLetterBarcodeData|QPDB|OfflinePaperlessKyc)/i.test(t)) return true;
  return /^\d{100,}$/.test(t);
}

type Target = EventTarget | null;
interface KeyLike {
  key: string;
  timeStamp: number;
  target: Target;
  preventDefault(): void;
  stopPropagation?(): void;
  stopImmediatePropagation?(): void;
}

const NEUTRAL = new Set(['Shift', 'Control', 'Alt', 'AltGraph', 'Meta', 'CapsLock']);

function editable(t: Target): (HTMLInputElement | HTMLTextAreaElement) | null {
  const el = t as HTMLInputElement | null;
  return el && typeof el === 'object' && 'value' in el && typeof el.value === 'string' ? el : null;
}

export class ScanDetector {
  private buf = '';
  private held = ''; // keys swallowed since the burst was suspected (given back if not a scan)
  private last = -Infinity;
  private gaps: number[] = [];
  private field: HTMLInputElement | HTMLTextAreaElement | null = null;
  private fieldValue = '';
  private swallowing = false;
  private timer: unknown = null;
  private swallowedUps = new Set<string>();
  // Every printable key since the last Enter, whatever its speed (a QR payload typed slowly).
  private recent = '';
  private recentGaps: number[] = [];
  private recentField: HTMLInputElement | HTMLTextAreaElement | null = null;
  private recentTarget: Target = null;
  private recentValue = '';
  maxGap: number;
  private readonly minLength: number;
  private readonly schedule: (fn: () => void, ms: number) => unknown;
  private readonly cancel: (h: unknown) => void;

  constructor(
    private readonly onScan: (text: string, typicalGapMs: number) => void,
    opts: ScannerOptions = {},
  ) {
    this.maxGap = opts.maxGapMs ?? DEFAULT_GAP_MS;
    this.minLength = opts.minLength ?? 20;
    this.schedule = opts.schedule ?? ((fn, ms) => setTimeout(fn, ms));
    this.cancel = opts.cancel ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  private swallow(ev: KeyLike) {
    ev.preventDefault();
    ev.stopImmediatePropagation?.();
    ev.stopPropagation?.();
    this.swallowedUps.add(ev.key);
  }

  /** Gives the held keys back to the field they were typed into (a person typing fast). */
  private giveBack() {
    const text = this.held;
    this.held = '';
    this.swallowing = false;
    const f = this.field;
    if (!text || !f) return;
    try {
      const start = f.selectionStart ?? f.value.length;
      const end = f.selectionEnd ?? start;
      f.setRangeText(text, start, end, 'end');
    } catch {
      f.value += text; // number inputs have no selection
    }
    f.dispatchEvent(new Event('input', { bubbles: true }));
  }

  private reset() {
    if (this.timer !== null) this.cancel(this.timer);
    this.timer = null;
    this.buf = '';
    this.gaps = [];
  }

  private median(gaps: number[]): number {
    const sorted = [...gaps].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  }

  private forgetRecent() {
    this.recent = '';
    this.recentGaps = [];
    this.recentTarget = null;
  }

  /** Ends a scan: swallows its Enter, puts the field it was typed into back as it was
   * (`value`), forgets the burst and hands the text on with its typical key gap. */
  private scanned(
    ev: KeyLike,
    text: string,
    field: HTMLInputElement | HTMLTextAreaElement | null,
    value: string,
    gaps: number[],
  ): boolean {
    this.swallow(ev);
    this.held = '';
    this.swallowing = false;
    if (field) {
      field.value = value;
      field.dispatchEvent(new Event('input', { bubbles: true }));
    }
    const typical = this.median(gaps);
    this.reset();
    this.forgetRecent();
    this.last = -Infinity;
    this.onScan(text, typical);
    return true;
  }

  /** Feed every keydown (capture phase). Returns true when the event was swallowed as a scan's. */
  handle(ev: KeyLike): boolean {
    if (NEUTRAL.has(ev.key)) return this.swallowing;
    const gap = ev.timeStamp - this.last;
    this.last = ev.timeStamp;
    if (gap > this.maxGap) {
      // A new sequence starts: whatever was held belonged to a person; remember the field as it
      // was before this key.
      this.giveBack();
      this.reset();
      this.field = editable(ev.target);
      this.fieldValue = this.field?.value ?? '';
    } else if (this.buf.length > 0) {
      this.gaps.push(gap);
    }
    if (ev.target !== this.recentTarget || this.recent === '') {
      this.recent = '';
      this.recentGaps = [];
      this.recentTarget = ev.target;
      this.recentField = editable(ev.target);
      this.recentValue = this.recentField?.value ?? '';
    }
    if (ev.key === 'Enter') {
      // A QR payload since the last Enter wins over the timing burst: a stall mid-scan (a busy
      // machine, a slow scanner) cuts the burst, and the part after the stall alone would parse
      // as nothing. The held keys are the scan's; they are not given back.
      const whole = this.recent;
      if (looksLikeQr(whole) && this.buf.length > 0 && whole.endsWith(this.buf)) {
        return this.scanned(ev, whole.trim(), this.recentField, this.recentValue, this.recentGaps);
      }
      const text = this.buf;
      const fast = gap <= this.maxGap;
      if (text.length >= this.minLength && fast) {
        return this.scanned(ev, text, this.field, this.fieldValue, this.gaps);
      }
      // Not a scan by its speed: the held keys go back first, so Enter's own handler sees the
      // whole text…
      this.giveBack();
      this.reset();
      // …unless what was typed is a QR payload, at whatever speed it came.
      const slow = this.recent;
      if (looksLikeQr(slow)) {
        return this.scanned(ev, slow.trim(), this.recentField, this.recentValue, this.recentGaps);
      }
      this.forgetRecent();
      return false;
    }
    if (ev.key.length !== 1) {
      // Backspace, arrows, Tab…: a person. Give back what was held and let the key through.
      this.giveBack();
      this.reset();
      this.forgetRecent();
      this.last = -Infinity;
      return false;
    }
    if (this.recent) this.recentGaps.push(gap);
    this.recent += ev.key;
    this.buf += ev.key;
    if (this.buf.length >= 2) {
      // The second fast key: from here on nothing reaches the page until we know.
      // (The first key of the burst already reached the field; a scan puts the field back.)
      this.swallowing = true;
      this.held += ev.key;
      this.swallow(ev);
      if (this.timer !== null) this.cancel(this.timer);
      this.timer = this.schedule(() => {
        this.timer = null;
        this.giveBack();
        this.reset();
      }, this.maxGap + 15);
      return true;
    }
    return false;
  }

  /** Gives held keys back now (a tap or a focus change: the person moved on before the timer). */
  flush() {
    if (!this.held) return;
    this.giveBack();
    this.reset();
  }

  /** Feed every keyup (capture phase): a swallowed key's keyup is swallowed too (a button a
   * space or Enter would press never sees it). */
  handleUp(ev: KeyLike): boolean {
    if (this.swallowedUps.delete(ev.key)) {
      ev.preventDefault();
      ev.stopImmediatePropagation?.();
      ev.stopPropagation?.();
      return true;
    }
    return false;
  }
}

const GAP_KEY = 'swagat.scanner.maxGapMs';
const SET_KEY = 'swagat.scanner.fixedGapMs';

/** The threshold to start with: the one set in Settings, else the one learned, else the default. */
export function savedThreshold(store: Pick<Storage, 'getItem'> | null = safeStorage()): number {
  const fixed = Number(store?.getItem(SET_KEY) ?? '');
  if (Number.isFinite(fixed) && fixed >= MIN_GAP_MS && fixed <= MAX_GAP_MS * 2) return fixed;
  const learned = Number(store?.getItem(GAP_KEY) ?? '');
  if (Number.isFinite(learned) && learned >= MIN_GAP_MS && learned <= MAX_GAP_MS) return learned;
  return DEFAULT_GAP_MS;
}

/** The threshold set in Settings (ms), or null when it is learned. */
export function fixedThreshold(store: Pick<Storage, 'getItem'> | null = safeStorage()): number | null {
  const v = store?.getItem(SET_KEY);
  return v ? Number(v) : null;
}

/** Sets (a number) or clears (null: learn from the scanner) the threshold. */
export function setFixedThreshold(ms: number | null, store: Pick<Storage, 'setItem' | 'removeItem'> | null = safeStorage()) {
  if (ms === null) store?.removeItem(SET_KEY);
  else store?.setItem(SET_KEY, String(Math.round(ms)));
}

/** Remembers what a parsed burst taught (unless Settings fixed the threshold); returns it. */
export function learn(typicalGapMs: number, store: Pick<Storage, 'getItem' | 'setItem'> | null = safeStorage()): number {
  if (store?.getItem(SET_KEY)) return savedThreshold(store);
  const t = learnedThreshold(typicalGapMs);
  store?.setItem(GAP_KEY, String(t));
  return t;
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

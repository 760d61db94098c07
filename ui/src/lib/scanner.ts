// Recognises a USB QR scanner that "types" into the app: a burst of keystrokes far faster than a
// person types, ending in Enter. The burst is taken out of whatever field had focus and handed to
// onScan, so a scan never half-fills or submits a form.

export interface ScannerOptions {
  /** Longest gap between two keystrokes of a burst (ms). People rarely type faster than ~60 ms. */
  maxGapMs?: number;
  /** Shortest payload accepted as a scan (an ABHA QR is ~150 characters, Aadhaar ~2,000). */
  minLength?: number;
}

export class ScanDetector {
  private buf = '';
  private last = 0;
  private field: HTMLInputElement | HTMLTextAreaElement | null = null;
  private fieldValue = '';
  private readonly maxGap: number;
  private readonly minLength: number;

  constructor(
    private readonly onScan: (text: string) => void,
    opts: ScannerOptions = {},
  ) {
    this.maxGap = opts.maxGapMs ?? 35;
    this.minLength = opts.minLength ?? 20;
  }

  /** Feed every keydown (capture phase). Returns true when the event was part of a scan. */
  handle(ev: { key: string; timeStamp: number; target: EventTarget | null; preventDefault(): void }): boolean {
    const gap = ev.timeStamp - this.last;
    this.last = ev.timeStamp;
    if (gap > this.maxGap) {
      // A new sequence starts: remember the focused field as it was before it.
      this.buf = '';
      const t = ev.target as HTMLInputElement | null;
      this.field = t && 'value' in t ? t : null;
      this.fieldValue = this.field?.value ?? '';
    }
    if (ev.key === 'Enter') {
      const text = this.buf;
      this.buf = '';
      if (text.length >= this.minLength && gap <= this.maxGap) {
        ev.preventDefault();
        if (this.field) {
          this.field.value = this.fieldValue;
          this.field.dispatchEvent(new Event('input', { bubbles: true }));
        }
        this.onScan(text);
        return true;
      }
      return false;
    }
    if (ev.key.length === 1) this.buf += ev.key;
    return this.buf.length >= this.minLength;
  }
}

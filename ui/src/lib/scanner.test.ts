import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GAP_MS, ScanDetector, learn, learnedThreshold, looksLikeQr, savedThreshold, setFixedThreshold,
} from './scanner';

interface Fed { prevented: number; swallowed: boolean[] }

function feed(d: ScanDetector, text: string, start: number, gap: number, target: EventTarget | null = null): Fed {
  let t = start;
  const out: Fed = { prevented: 0, swallowed: [] };
  for (const key of [...text.split(''), 'Enter']) {
    t += gap;
    out.swallowed.push(d.handle({ key, timeStamp: t, target, preventDefault: () => out.prevented++ }));
  }
  return out;
}

/** A fake text field: enough of HTMLInputElement for the detector. */
function field(value = '') {
  const f = {
    value, selectionStart: value.length, selectionEnd: value.length, events: 0,
    setRangeText(text: string, s: number, e: number) {
      f.value = f.value.slice(0, s) + text + f.value.slice(e);
      f.selectionStart = f.selectionEnd = s + text.length;
    },
    dispatchEvent() { f.events++; return true; },
  };
  return f;
}

const noTimers = { schedule: () => 0, cancel: () => {} };
const abha = '{"hidn":"91-2345-6789-0129","name":"Sunita Devi","gender":"F","dob":"1/1/1985"}';

describe('ScanDetector', () => {
  it('takes a fast burst ending in Enter as a scan and swallows every key after the first', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s), noTimers);
    const r = feed(d, abha, 1000, 5);
    expect(scans).toEqual([abha]);
    expect(r.swallowed[0]).toBe(false); // the first key cannot be known…
    expect(r.swallowed.slice(1).every(Boolean)).toBe(true); // …all the others (spaces, Enter) are
    expect(r.prevented).toBe(abha.length); // keys 2..n and Enter
  });

  it('puts the field back as it was before the burst (a mobile typed before survives)', () => {
    const f = field('98765');
    const d = new ScanDetector(() => {}, noTimers);
    // The browser inserted the first key itself (it was not swallowed).
    d.handle({ key: '{', timeStamp: 1000, target: f as unknown as EventTarget, preventDefault: () => {} });
    f.value += '{';
    feed(d, abha.slice(1), 1000, 5, f as unknown as EventTarget);
    expect(f.value).toBe('98765');
  });

  it('works with a slow 40 ms-per-key scanner out of the box', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s), noTimers);
    feed(d, abha, 1000, 40);
    expect(scans).toEqual([abha]);
  });

  it('takes a burst cut by a stall as one scan, and leaves nothing of it in the field', () => {
    // A loaded machine (or a scanner pausing) leaves one gap far above the threshold mid-burst;
    // the part after it alone would be a truncated payload that parses as nothing.
    const f = field('');
    const at = f as unknown as EventTarget;
    const scans: string[] = [];
    const d2 = new ScanDetector((s) => scans.push(s), noTimers);
    const cut = 30;
    let t = 1000;
    for (const key of abha.slice(0, cut)) d2.handle({ key, timeStamp: (t += 40), target: at, preventDefault: () => {} });
    t += 400; // the stall: the held keys go back into the field
    for (const key of [...abha.slice(cut), 'Enter']) d2.handle({ key, timeStamp: (t += 40), target: at, preventDefault: () => {} });
    expect(scans).toEqual([abha]);
    expect(f.value).toBe('');
  });

  it('ignores a person typing, even a long text, and swallows nothing', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s), noTimers);
    const r = feed(d, 'Sunita Devi Kankarbagh Patna', 1000, 120);
    expect(scans).toEqual([]);
    expect(r.prevented).toBe(0);
  });

  it('gives back keys held during a quick pair of keystrokes', () => {
    const f = field('Su');
    const d = new ScanDetector(() => {}, noTimers);
    const at = f as unknown as EventTarget;
    d.handle({ key: 'n', timeStamp: 1000, target: at, preventDefault: () => {} });
    f.value += 'n'; // the first key reached the field (and the caret moved)
    f.selectionStart = f.selectionEnd = f.value.length;
    const held = d.handle({ key: 'i', timeStamp: 1020, target: at, preventDefault: () => {} });
    expect(held).toBe(true);
    // The next key comes at a person's pace: the held "i" goes back first, in order.
    d.handle({ key: 't', timeStamp: 1300, target: at, preventDefault: () => {} });
    expect(f.value).toBe('Suni');
  });

  it('gives held keys back at once when the person taps elsewhere', () => {
    const f = field('');
    const d = new ScanDetector(() => {}, noTimers);
    const at = f as unknown as EventTarget;
    d.handle({ key: '1', timeStamp: 1000, target: at, preventDefault: () => {} });
    f.value += '1';
    f.selectionStart = f.selectionEnd = 1;
    for (const [i, k] of ['3', '5', '7'].entries()) d.handle({ key: k, timeStamp: 1005 + i * 5, target: at, preventDefault: () => {} });
    expect(f.value).toBe('1');
    d.flush();
    expect(f.value).toBe('1357');
  });

  it('ignores a short fast burst (autorepeat, paste of a few characters)', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s), noTimers);
    feed(d, 'aaaa', 1000, 5);
    expect(scans).toEqual([]);
  });

  it('takes a QR payload typed at any speed into a box as a scan', () => {
    const scans: string[] = [];
    const f = field('');
    const d = new ScanDetector((s) => scans.push(s), noTimers);
    const at = f as unknown as EventTarget;
    let t = 0;
    for (const key of abha.split('')) {
      t += 250;
      d.handle({ key, timeStamp: t, target: at, preventDefault: () => {} });
      f.value += key;
    }
    const r = d.handle({ key: 'Enter', timeStamp: t + 250, target: at, preventDefault: () => {} });
    expect(r).toBe(true);
    expect(scans).toEqual([abha]);
    expect(f.value).toBe('');
  });

  it('adapts: a learned threshold follows the scanner, a set one wins', () => {
    const mem = new Map<string, string>();
    const store = {
      getItem: (k: string) => mem.get(k) ?? null,
      setItem: (k: string, v: string) => void mem.set(k, v),
      removeItem: (k: string) => void mem.delete(k),
    };
    expect(savedThreshold(store)).toBe(DEFAULT_GAP_MS);
    expect(learn(40, store)).toBe(learnedThreshold(40));
    expect(learnedThreshold(40)).toBeGreaterThan(40);
    expect(savedThreshold(store)).toBe(learnedThreshold(40));
    expect(learnedThreshold(3)).toBe(40);
    setFixedThreshold(100, store);
    expect(learn(3, store)).toBe(100);
    expect(savedThreshold(store)).toBe(100);
    setFixedThreshold(null, store);
    expect(savedThreshold(store)).toBe(learnedThreshold(40));
    // A learned threshold of 90 ms lets a 70 ms scanner through; the default would not.
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s), { ...noTimers, maxGapMs: learnedThreshold(40) });
    feed(d, abha, 0, 70);
    expect(scans.length).toBe(1);
  });

  it('recognises QR payload shapes', () => {
    expect(looksLikeQr(abha)).toBe(true);
    expect(looksLikeQr('<?xml version="1.0"?><PrintLetterBarcodeData uid="x"/>')).toBe(true);
    expect(looksLikeQr('1'.repeat(500))).toBe(true);
    expect(looksLikeQr('Sunita Devi')).toBe(false);
    expect(looksLikeQr('9876543210')).toBe(false);
  });
});

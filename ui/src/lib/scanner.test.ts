import { describe, expect, it } from 'vitest';
import { ScanDetector } from './scanner';

function feed(d: ScanDetector, text: string, start: number, gap: number) {
  let t = start;
  let prevented = false;
  for (const key of [...text.split(''), 'Enter']) {
    t += gap;
    d.handle({ key, timeStamp: t, target: null, preventDefault: () => (prevented = true) });
  }
  return prevented;
}

describe('ScanDetector', () => {
  it('takes a fast burst ending in Enter as a scan', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s));
    const payload = '{"hidn":"91-2345-6789-0129","name":"Sunita Devi"}';
    expect(feed(d, payload, 1000, 5)).toBe(true);
    expect(scans).toEqual([payload]);
  });

  it('ignores a person typing, even a long text', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s));
    expect(feed(d, 'Sunita Devi Kankarbagh Patna', 1000, 120)).toBe(false);
    expect(scans).toEqual([]);
  });

  it('ignores a short fast burst (autorepeat, paste of a few characters)', () => {
    const scans: string[] = [];
    const d = new ScanDetector((s) => scans.push(s));
    feed(d, 'aaaa', 1000, 5);
    expect(scans).toEqual([]);
  });
});

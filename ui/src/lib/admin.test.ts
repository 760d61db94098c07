import { describe, expect, it } from 'vitest';
import { hoursAgo, sizeText } from './admin';

describe('admin helpers', () => {
  it('sizes read in MB below a GB', () => {
    expect(sizeText(480_000_000)).toBe('480 MB');
    expect(sizeText(2_500_000_000)).toBe('2.5 GB');
    expect(sizeText(-5)).toBe('0 MB');
  });
  it('hours ago never goes negative', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(hoursAgo('2026-12-01T09:30:00Z', now)).toBe(2);
    expect(hoursAgo('2026-12-01T13:00:00Z', now)).toBe(0);
  });
});

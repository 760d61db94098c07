import { describe, expect, it } from 'vitest';
import {
  ageYears, dmy, facilityTime, facilityToday, longDate, monthGrid, parseDmy, parseTime, weekdayOf,
} from './dates';

describe('dates', () => {
  it('shows DD-MM-YYYY and reads it back', () => {
    expect(dmy('2026-12-01')).toBe('01-12-2026');
    expect(dmy('2026-12-01T10:00:00Z')).toBe('01-12-2026');
    expect(dmy('')).toBe('');
    expect(parseDmy('01-12-2026')).toBe('2026-12-01');
    expect(parseDmy('1/2/1985')).toBe('1985-02-01');
    expect(parseDmy('31-02-2026')).toBeNull();
    expect(parseDmy('12/01/2026')).toBe('2026-01-12'); // day first, never US order
  });

  it('names months and weekdays in Hindi or English', () => {
    expect(longDate('2026-12-01', 'hi')).toBe('मंगलवार, 1 दिसंबर 2026');
    expect(longDate('2026-12-01', 'en')).toBe('Tuesday, 1 December 2026');
    expect(weekdayOf('2026-12-06')).toBe(0);
  });

  it('keeps the facility clock whatever the PC time zone', () => {
    // 20:00 UTC on 1 December is 01:30 on 2 December in India.
    const now = new Date(Date.UTC(2026, 11, 1, 20, 0));
    expect(facilityToday(now, 330)).toBe('2026-12-02');
    expect(facilityTime(now, 330)).toBe('01:30');
    expect(facilityToday(now, 0)).toBe('2026-12-01');
  });

  it('computes ages and calendars', () => {
    expect(ageYears('1985-12-02', '2026-12-01')).toBe(40);
    expect(ageYears('1985-12-01', '2026-12-01')).toBe(41);
    const g = monthGrid(2026, 12); // 1 December 2026 is a Tuesday
    expect(g[0]).toEqual([null, 1, 2, 3, 4, 5, 6]);
    expect(g.flat().filter((d) => d !== null).length).toBe(31);
  });

  it('reads shift times as people type them', () => {
    expect(parseTime('7')).toBe('07:00');
    expect(parseTime('7:0')).toBe('07:00');
    expect(parseTime('07.30')).toBe('07:30');
    expect(parseTime('1930')).toBe('19:30');
    expect(parseTime('25:00')).toBeNull();
  });
});

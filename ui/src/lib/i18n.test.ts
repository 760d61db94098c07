import { describe, expect, it } from 'vitest';
import en from '../i18n/en.json';
import hi from '../i18n/hi.json';

describe('string catalogs', () => {
  it('have the same keys in Hindi and English', () => {
    expect(Object.keys(hi).sort()).toEqual(Object.keys(en).sort());
  });
  it('have no empty strings', () => {
    for (const [k, v] of [...Object.entries(en), ...Object.entries(hi)]) {
      expect(v.trim(), k).not.toBe('');
    }
  });
  it('Hindi strings are in Devanagari where they are words', () => {
    expect(hi['login.title']).toMatch(/[\u0900-\u097F]/);
    expect(hi['setup.title']).toMatch(/[\u0900-\u097F]/);
  });
});

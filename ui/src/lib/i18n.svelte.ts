// String catalogs and the current language. Every visible string goes through t(key);
// a test checks both catalogs have the same keys.
import en from '../i18n/en.json';
import hi from '../i18n/hi.json';
import type { ErrorReport } from './api';

export type Lang = 'en' | 'hi';
export const catalogs: Record<Lang, Record<string, string>> = { en, hi };

const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('swagat.lang') : null;
export const ui = $state<{ lang: Lang }>({ lang: saved === 'en' ? 'en' : 'hi' });

/** The string for `key` in the current language (the key itself if missing, so gaps show). */
export function t(key: string): string {
  return catalogs[ui.lang][key] ?? catalogs.en[key] ?? key;
}

/** An error from the core, in the current language. */
export function errText(e: ErrorReport): string {
  return ui.lang === 'hi' ? e.hi : e.en;
}

export function toggleLang(): void {
  ui.lang = ui.lang === 'hi' ? 'en' : 'hi';
  document.documentElement.lang = ui.lang;
  try {
    localStorage.setItem('swagat.lang', ui.lang);
  } catch {
    /* storage unavailable: the choice lasts for this session */
  }
}

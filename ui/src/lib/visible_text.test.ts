// Every word the operator sees comes from the catalogs (en.json / hi.json), so the Hindi screen
// is Hindi throughout. This reads every component's markup (scripts, styles, comments and `{…}`
// expressions taken out) and fails on a text node or a placeholder/title/aria-label/alt with
// words in it, except the few literals below, each for its reason.
import { describe, expect, it } from 'vitest';

/** Every component's source, by path (Vite reads them at test time). */
const SOURCES = import.meta.glob('../**/*.svelte', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

/** Literal text allowed in markup: identifiers, formats and examples, the same in both languages. */
const ALLOWED = new Set([
  'UHID', // the identifier's name, printed so on cards and slips
  'UHID:',
  '· UHID',
  'XXXX XXXX', // the masked part of an Aadhaar number
  'स्वागत · Swagat', // the product's name, in both scripts
  '&nbsp;',
  '( ms)', // milliseconds' symbol, written so in Hindi too
  // Example values in placeholders: formats, not words.
  'OPD1',
  'PTN12',
  'IN2810014366',
  'https://phrsbx.abdm.gov.in/share-profile',
  'https://swagat.bihar.gov.in',
  '/dev/usb/lp0 · tcp://10.0.0.5:9100 · cups:QUEUE',
]);

/** The markup with scripts, styles, comments and (up to doubly nested) expressions blanked. */
function markup(source: string): string {
  let s = source
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/`[^`]*`/g, ' ');
  for (let i = 0; i < 3; i++) s = s.replace(/\{[^{}]*\}/g, ' ');
  return s;
}

/** Literal visible texts of one component. */
export function literals(source: string): string[] {
  const s = markup(source);
  const out: string[] = [];
  const words = /[A-Za-z\u0900-\u097F]{2,}/;
  for (const m of s.matchAll(/>([^<>]*)</g)) {
    const text = m[1].trim().replace(/\s+/g, ' ');
    if (words.test(text)) out.push(text);
  }
  for (const m of s.matchAll(/\s(?:placeholder|title|aria-label|alt)="([^"]*)"/g)) {
    const text = m[1].trim();
    if (words.test(text)) out.push(text);
  }
  return out.filter((t) => !ALLOWED.has(t));
}

describe('visible text', () => {
  it('finds a literal word, and not a catalog lookup', () => {
    expect(literals('<p>{t("a.b")}</p>')).toEqual([]);
    expect(literals('<p>Save</p>')).toEqual(['Save']);
    expect(literals('<input placeholder="Name" />')).toEqual(['Name']);
    expect(literals('<b>{x ? t("a") : t("b")}</b> ms')).toEqual([]);
    expect(literals('<span>नाम</span>')).toEqual(['नाम']);
  });

  it('has no Hindi text in a component script either (a message is a catalog key)', () => {
    const hindiInScripts = (source: string) =>
      [...source.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)]
        .map((m) => m[1].replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''))
        .flatMap((code) => [...code.matchAll(/(['"`])([^'"`\n]*[\u0900-\u097F][^'"`\n]*)\1/g)].map((m) => m[2]));
    expect(hindiInScripts("<script>showToast('info', { hi: 'नाम' });</script>")).toEqual(['नाम']);
    expect(hindiInScripts("<script>// नाम\nshowToast('info', t('a.b'));</script>")).toEqual([]);
    const found = Object.keys(SOURCES).flatMap((f) => hindiInScripts(SOURCES[f]).map((t) => `${f}: ${t}`));
    expect(found).toEqual([]);
  });

  it('comes from the catalogs in every component', () => {
    const files = Object.keys(SOURCES);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((f) => literals(SOURCES[f]).map((t) => `${f}: ${t}`));
    expect(found).toEqual([]);
  });
});

// A state-server address checked before anything connects to it: a scheme (https://, or
// http:// for a test server) and a host, so "swagat.bihar.gov.in" gets "add https://" instead of
// a misleading "could not reach the server".
export type UrlProblem = 'empty' | 'scheme' | 'host' | 'invalid';

export function serverUrlProblem(text: string): UrlProblem | null {
  const s = text.trim();
  if (!s) return 'empty';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return 'scheme';
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'invalid';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'scheme';
  if (!u.hostname || /\s/.test(s)) return 'host';
  return null;
}

import { describe, expect, it } from 'vitest';
import { serverUrlProblem } from './url';

describe('serverUrlProblem', () => {
  it('wants a scheme and a host', () => {
    expect(serverUrlProblem('https://swagat.bihar.gov.in')).toBeNull();
    expect(serverUrlProblem('http://127.0.0.1:8443')).toBeNull();
    expect(serverUrlProblem('swagat.bihar.gov.in')).toBe('scheme');
    expect(serverUrlProblem('ftp://x.in')).toBe('scheme');
    expect(serverUrlProblem('https://')).not.toBeNull();
    expect(serverUrlProblem('  ')).toBe('empty');
  });
});

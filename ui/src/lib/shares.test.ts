import { describe, expect, it } from 'vitest';
import { queueView, type SharedProfile } from './shares';

const s = (id: string, status: SharedProfile['status']): SharedProfile => ({
  id, token: id, context: 'OPD1', name: 'X', gender: 'F', year_of_birth: 1985, age_years: 41,
  abha_address: 'x.y@sbx', abha_number: null, shared_at: '', expires_at: '', minutes_waiting: 3, status, visit_id: null,
});

describe('queueView', () => {
  it('keeps only waiting shares in the queue, in the order given', () => {
    const v = queueView([s('1', 'registered'), s('2', 'waiting'), s('3', 'expired'), s('4', 'waiting')]);
    expect(v.waiting.map((x) => x.id)).toEqual(['2', '4']);
    expect(v.done.map((x) => x.id)).toEqual(['1', '3']);
  });
});

import { describe, expect, it } from 'vitest';
import type { Patient } from './api';
import { patchOf, toForm } from './patientForm';

const patient: Patient = {
  id: 'p1', uhid: 'PTN12-A00001-K', name: 'Kamla Devi', name_hi: null, gender: 'F', dob: '1974-07-01',
  dob_approximate: true, year_of_birth: 1974, guardian_relation: 'W/O', guardian_name: 'Ram Lal',
  mobile: '9876543210', address: { locality: 'Kankarbagh', pincode: null }, aadhaar_last4: null,
  abha_number: null, abha_address: null, category: 'general', aadhaar_consent: false, merged_into: null,
  created_at: '2026-11-01T04:30:00Z', updated_at: '2026-11-01T04:30:00Z',
};

describe('patient edit patch', () => {
  it('sends only the changed field', () => {
    const before = toForm(patient);
    expect(patchOf(before, { ...before, mobile: ' 9123456780 ' })).toEqual({ mobile: '9123456780' });
    expect(patchOf(before, { ...before })).toEqual({});
  });

  it('nests address parts, clears emptied fields, and sends the guardian whole', () => {
    const before = toForm(patient);
    const after = { ...before, pincode: '800020', locality: '', guardian_name: 'Ramlal' };
    expect(patchOf(before, after)).toEqual({
      address: { pincode: '800020', locality: null },
      guardian: { relation: 'W/O', name: 'Ramlal' },
    });
    expect(patchOf(before, { ...before, guardian_name: ' ' })).toEqual({ guardian: null });
  });

  it('leaves an age-derived date of birth alone unless it is edited', () => {
    const before = toForm(patient);
    expect(patchOf(before, { ...before, name: 'Kamla Devi ' })).toEqual({});
    expect(patchOf(before, { ...before, dob: '02-03-1975' })).toEqual({ dob: '02-03-1975' });
  });
});

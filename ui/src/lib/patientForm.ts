// The patient edit form as flat strings, and the patch that sends only what the operator changed
// (the core validates it like a registration; untouched fields, such as an age-derived date of
// birth, are left exactly as stored).
import type { Patient, PatientPatch } from './api';
import { dmy } from './dates';

export type PatientForm = Record<string, string>;

export const FORM_FIELDS = ['name', 'name_hi', 'gender', 'dob', 'guardian_relation', 'guardian_name', 'mobile',
  'abha_number', 'abha_address', 'category', 'house', 'street', 'locality', 'vtc', 'district', 'pincode'] as const;
const ADDRESS: readonly string[] = ['house', 'street', 'locality', 'vtc', 'district', 'pincode'];

/** The form's starting values for `p`. */
export function toForm(p: Patient): PatientForm {
  const a = p.address as Record<string, string | null | undefined>;
  const f: PatientForm = {
    name: p.name, name_hi: p.name_hi ?? '', gender: p.gender, dob: dmy(p.dob ?? ''), // shown and typed DD-MM-YYYY
    guardian_relation: p.guardian_relation ?? 'S/O', guardian_name: p.guardian_name ?? '',
    mobile: p.mobile ?? '', abha_number: p.abha_number ?? '', abha_address: p.abha_address ?? '',
    category: p.category,
  };
  for (const k of ADDRESS) f[k] = a[k] ?? '';
  return f;
}

/** The changed fields only: a cleared field becomes null, address parts nest under `address`. */
export function patchOf(original: PatientForm, form: PatientForm): PatientPatch {
  const patch: Record<string, unknown> = {};
  const address: Record<string, string | null> = {};
  const val = (k: string) => (form[k]?.trim() ? form[k].trim() : null);
  for (const k of FORM_FIELDS) {
    if ((form[k] ?? '').trim() === (original[k] ?? '').trim()) continue;
    if (ADDRESS.includes(k)) address[k] = val(k);
    else if (k === 'guardian_relation' || k === 'guardian_name') {
      patch.guardian = form.guardian_name?.trim()
        ? { relation: form.guardian_relation, name: form.guardian_name.trim() }
        : null;
    } else patch[k] = val(k);
  }
  if (Object.keys(address).length) patch.address = address;
  return patch as PatientPatch;
}

// How a patient is told apart from look-alikes in a list: age (not the year), gender in words,
// the guardian with the relation in words, the last 4 digits of the mobile, the last visit.
import type { Patient } from './api';
import { ageYears, dmy, facilityToday } from './dates';

type T = (key: string) => string;

/** Age in whole years from the date of birth (or the year), at the facility's today. */
export function patientAge(p: Pick<Patient, 'dob' | 'year_of_birth'>, today = facilityToday()): number | null {
  const a = ageYears(p.dob, today);
  if (a !== null) return a;
  const y = Number(today.slice(0, 4));
  return p.year_of_birth ? y - p.year_of_birth : null;
}

/** "40 वर्ष" / "40 yrs". */
export function ageText(p: Pick<Patient, 'dob' | 'year_of_birth'>, t: T, today = facilityToday()): string {
  const a = patientAge(p, today);
  return a === null ? '' : t('reg.age_years').replace('{n}', String(a));
}

export function genderText(g: string, t: T): string {
  return ['F', 'M', 'T', 'O'].includes(g) ? t(`reg.gender.${g}`) : g;
}

export function relationText(rel: string | null | undefined, t: T): string {
  return rel && ['S/O', 'W/O', 'D/O', 'C/O'].includes(rel) ? t(`reg.rel.${rel}`) : (rel ?? '');
}

export function guardianText(p: Pick<Patient, 'guardian_relation' | 'guardian_name'>, t: T): string {
  return p.guardian_name ? `${relationText(p.guardian_relation, t)} ${p.guardian_name}`.trim() : '';
}

/** "📱 …3210". */
export function mobileTail(m: string | null | undefined): string {
  return m && m.length >= 4 ? `…${m.slice(-4)}` : '';
}

/** The parts of a search row after the name, empty ones left out. */
export function rowDetails(p: Patient, lastVisit: string | null | undefined, t: T, today = facilityToday()): string[] {
  return [
    ageText(p, t, today),
    genderText(p.gender, t),
    guardianText(p, t),
    p.mobile ? `${t('reg.mobile_short')} ${mobileTail(p.mobile)}` : '',
    p.address.locality ?? p.address.vtc ?? '',
    lastVisit ? `${t('reg.last_visit')} ${dmy(lastVisit)}` : '',
  ].filter(Boolean);
}

/** The relation a guardian field starts with for a patient of this gender and age. */
export function defaultRelation(gender: string, age: number | null): string {
  if (gender === 'M') return 'S/O';
  if (gender === 'F') return age !== null && age < 18 ? 'D/O' : 'W/O';
  return 'C/O';
}

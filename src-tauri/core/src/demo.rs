//! Realistic synthetic patients and visits, for demos and benchmarks (`swagat-admin demo-data`).
//!
//! Names in English and Devanagari, addresses in Bihar and Chhattisgarh districts with LGD codes,
//! a spread of departments and visit dates over the last 90 days, about half ABHA-linked, some with
//! Aadhaar (valid Verhoeff numbers, stored as last 4 + keyed hash like real ones). Deterministic for
//! a seed. Inserted in batches of 5,000 per transaction with the same validation as the counter.

use swagat_identity::numbers::{luhn, verhoeff};

use crate::audit::{self, Actor};
use crate::clock;
use crate::config;
use crate::error::Result;
use crate::kiosk::Kiosk;
use crate::opd::patients::{self, GuardianInput, PatientAddress, PatientInput};
use crate::opd::{register::identity_codes, secrets, uhid, visits};

const FEMALE: &[(&str, &str)] = &[
    ("Sunita", "सुनीता"),
    ("Anita", "अनीता"),
    ("Rekha", "रेखा"),
    ("Pooja", "पूजा"),
    ("Priya", "प्रिया"),
    ("Kiran", "किरण"),
    ("Lakshmi", "लक्ष्मी"),
    ("Savitri", "सावित्री"),
    ("Geeta", "गीता"),
    ("Meena", "मीना"),
    ("Radha", "राधा"),
    ("Shanti", "शांति"),
    ("Kavita", "कविता"),
    ("Rinki", "रिंकी"),
    ("Neha", "नेहा"),
    ("Phulmati", "फूलमती"),
];
const MALE: &[(&str, &str)] = &[
    ("Ramesh", "रमेश"),
    ("Suresh", "सुरेश"),
    ("Rajesh", "राजेश"),
    ("Manoj", "मनोज"),
    ("Amit", "अमित"),
    ("Vikash", "विकास"),
    ("Sanjay", "संजय"),
    ("Dinesh", "दिनेश"),
    ("Mohan", "मोहन"),
    ("Shyam", "श्याम"),
    ("Arjun", "अर्जुन"),
    ("Bablu", "बबलू"),
    ("Raju", "राजू"),
    ("Pappu", "पप्पू"),
    ("Kishore", "किशोर"),
    ("Lakhan", "लखन"),
];
const SURNAMES: &[(&str, &str)] = &[
    ("Kumar", "कुमार"),
    ("Devi", "देवी"),
    ("Singh", "सिंह"),
    ("Yadav", "यादव"),
    ("Prasad", "प्रसाद"),
    ("Paswan", "पासवान"),
    ("Mahto", "महतो"),
    ("Sahu", "साहू"),
    ("Netam", "नेताम"),
    ("Kashyap", "कश्यप"),
    ("Mandavi", "मंडावी"),
    ("Ansari", "अंसारी"),
];
/// A district for synthetic addresses: (state, state LGD, district, district LGD, localities,
/// PIN prefix).
type Place = (
    &'static str,
    u32,
    &'static str,
    u32,
    &'static [&'static str],
    u32,
);

const PLACES: &[Place] = &[
    (
        "Bihar",
        10,
        "Patna",
        212,
        &[
            "Kankarbagh",
            "Rajendra Nagar",
            "Phulwari Sharif",
            "Danapur",
            "Patna City",
        ],
        8000,
    ),
    (
        "Bihar",
        10,
        "Gaya",
        196,
        &["Bodh Gaya", "Manpur", "Tekari", "Sherghati"],
        8231,
    ),
    (
        "Bihar",
        10,
        "Muzaffarpur",
        208,
        &["Kanti", "Motipur", "Sahebganj", "Kurhani"],
        8430,
    ),
    (
        "Chhattisgarh",
        22,
        "Raipur",
        387,
        &["Tatibandh", "Mowa", "Abhanpur", "Arang"],
        4920,
    ),
    (
        "Chhattisgarh",
        22,
        "Bastar",
        374,
        &["Jagdalpur", "Bakawand", "Tokapal", "Lohandiguda"],
        4940,
    ),
];
const CATEGORIES: &[&str] = &[
    "general",
    "general",
    "general",
    "bpl",
    "ration_card",
    "ayushman",
    "senior_citizen",
];

/// SplitMix64: small, fast and deterministic; not for secrets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

fn aadhaar(rng: &mut Rng) -> String {
    let payload = format!("{}{}", 2 + rng.below(8), rng.digits(10));
    let check = verhoeff::check_digit(&payload).unwrap_or(0);
    format!("{payload}{check}")
}

fn abha(rng: &mut Rng) -> String {
    let payload = format!("91{}", rng.digits(11));
    let check = luhn::check_digit(&payload).unwrap_or(0);
    format!("{payload}{check}")
}

fn patient(rng: &mut Rng, i: u32) -> PatientInput {
    let female = rng.below(2) == 0;
    let (first, first_hi) = *rng.pick(if female { FEMALE } else { MALE });
    let (last, last_hi) = *rng.pick(SURNAMES);
    let (guardian, _) = *rng.pick(MALE);
    let (state, state_lgd, district, district_lgd, localities, pin) = *rng.pick(PLACES);
    let age = 1 + rng.below(85) as u32;
    let has_abha = rng.below(100) < 55;
    PatientInput {
        name: format!("{first} {last}"),
        name_hi: Some(format!("{first_hi} {last_hi}")),
        gender: if female { "F" } else { "M" }.into(),
        age_years: Some(age),
        guardian: Some(GuardianInput::Text(format!(
            "{} {guardian} {last}",
            if female && age > 20 {
                "W/O"
            } else if female {
                "D/O"
            } else {
                "S/O"
            }
        ))),
        mobile: (rng.below(100) < 80).then(|| format!("{}{}", 6 + rng.below(4), rng.digits(9))),
        aadhaar: (rng.below(100) < 40).then(|| aadhaar(rng)),
        abha_number: has_abha.then(|| abha(rng)),
        abha_address: (has_abha && rng.below(2) == 0)
            .then(|| format!("{}.{}{}@abdm", first.to_lowercase(), last.to_lowercase(), i)),
        category: Some((*rng.pick(CATEGORIES)).to_owned()),
        aadhaar_consent: Some(true),
        address: PatientAddress {
            postal: swagat_identity::Address {
                house: Some(format!("{}", 1 + rng.below(400))),
                locality: Some((*rng.pick(localities)).to_owned()),
                vtc: Some(district.to_owned()),
                district: Some(district.to_owned()),
                state: Some(state.to_owned()),
                pincode: Some(format!("{pin}{:02}", 1 + rng.below(40))),
                ..Default::default()
            },
            state_lgd: Some(state_lgd),
            district_lgd: Some(district_lgd),
        },
        ..Default::default()
    }
}

/// Adds `n` synthetic patients with 1–3 visits each; returns (patients, visits) added.
pub fn seed(kiosk: &Kiosk, n: u32, seed: u64) -> Result<(u64, u64)> {
    let mut rng = Rng(seed ^ 0x5357_4147_4154);
    let (mut added, mut visit_count) = (0u64, 0u64);
    let mut remaining = n;
    while remaining > 0 {
        let batch = remaining.min(5_000);
        remaining -= batch;
        let (p, v) = kiosk.store().write(|tx| {
            let settings = config::load_settings(tx)?;
            let depts: Vec<_> = config::load(tx)?
                .departments
                .into_iter()
                .filter(|d| d.active)
                .collect();
            let key = secrets::aadhaar_hash_key(tx)?;
            let (facility, letter) = identity_codes(&settings);
            let now = clock::now_utc();
            let today = clock::local_date(now, settings.utc_offset_minutes);
            let now_db = clock::to_db(now);
            let actor = Actor::System.as_db();
            let mut visit_stmt = tx.prepare_cached(
                "INSERT INTO visits (id, patient_id, department, visit_date, kiosk_letter, token_no, token, \
                 visit_type, fee_rupees, waiver_code, valid_until, abha_linked, created_at, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'new', ?8, NULL, ?9, ?10, ?11, ?12)",
            )?;
            let (mut p, mut v) = (0u64, 0u64);
            for i in 0..batch {
                let input = patient(&mut rng, i);
                let valid = patients::validate(&input, &key, today)?;
                let id = uuid::Uuid::now_v7().to_string();
                let seq = visits::next_counter(tx, "uhid")?;
                patients::insert(tx, &id, &uhid::format(&facility, &letter, seq), &valid, &actor, &now_db)?;
                p += 1;
                for _ in 0..1 + rng.below(3) {
                    let Some(dept) = depts.get(rng.below(depts.len())) else { break };
                    let date = today - time::Duration::days(rng.below(90) as i64 + 1);
                    let date_s = date.to_string();
                    let no = visits::next_counter(tx, &format!("token:{}:{date_s}:{letter}", dept.code))?;
                    let until = date + time::Duration::days(i64::from(dept.validity_days.max(1)) - 1);
                    visit_stmt.execute(rusqlite::params![
                        uuid::Uuid::now_v7().to_string(),
                        id,
                        dept.code,
                        date_s,
                        letter,
                        no,
                        format!("{letter}-{no:03}"),
                        if valid.category == "general" { dept.fee_rupees } else { 0 },
                        until.to_string(),
                        valid.abha_number.is_some() || valid.abha_address.is_some(),
                        now_db,
                        actor,
                    ])?;
                    v += 1;
                }
            }
            audit::record(tx, &Actor::Cli, crate::audit::actions::DEMO_SEED, "patient", None, serde_json::json!({ "patients": p, "visits": v }))?;
            Ok((p, v))
        })?;
        added += p;
        visit_count += v;
    }
    Ok((added, visit_count))
}

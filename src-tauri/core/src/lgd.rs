//! India's Local Government Directory (LGD) codes for states and districts.
//!
//! Facility configuration and patient addresses carry LGD codes so the state server can group
//! records by district. The list ships embedded (from `assets/lgd/`); Chhattisgarh and others keep
//! creating districts, so an updated list replaces the asset in a new release.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A district and its LGD code.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct District {
    /// LGD district code.
    pub district_code: u32,
    /// District name as LGD spells it.
    pub district_name: String,
    /// The district's Hindi name, where Swagat ships one (Bihar, Chhattisgarh).
    #[serde(default)]
    pub district_name_hi: Option<String>,
}

/// A state with its districts.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "LgdState"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// LGD state code.
    pub state_code: u32,
    /// State name as LGD spells it.
    pub state_name: String,
    /// The state's Hindi name, where Swagat ships one (Bihar, Chhattisgarh).
    #[serde(default)]
    pub state_name_hi: Option<String>,
    /// The state's districts.
    pub districts: Vec<District>,
}

#[derive(Deserialize)]
struct Directory {
    states: Vec<State>,
}

static STATES: OnceLock<Vec<State>> = OnceLock::new();

/// Hindi names by code (`assets/lgd/names_hi.json`): LGD's list is English only.
#[derive(Deserialize)]
struct HindiNames {
    states: Vec<HindiState>,
}

#[derive(Deserialize)]
struct HindiState {
    state_code: u32,
    name_hi: String,
    districts: Vec<HindiDistrict>,
}

#[derive(Deserialize)]
struct HindiDistrict {
    district_code: u32,
    name_hi: String,
}

fn add_hindi_names(states: &mut [State]) {
    let raw = include_str!("../../../assets/lgd/names_hi.json");
    let Ok(names) = serde_json::from_str::<HindiNames>(raw) else {
        return;
    };
    for hs in names.states {
        let Some(s) = states.iter_mut().find(|s| s.state_code == hs.state_code) else {
            continue;
        };
        s.state_name_hi = Some(hs.name_hi);
        for hd in hs.districts {
            if let Some(d) = s
                .districts
                .iter_mut()
                .find(|d| d.district_code == hd.district_code)
            {
                d.district_name_hi = Some(hd.name_hi);
            }
        }
    }
}

/// Every state, with districts, in the embedded list's order.
pub fn states() -> &'static [State] {
    STATES.get_or_init(|| {
        let raw = include_str!("../../../assets/lgd/lgd_states_districts.json");
        // The asset is checked by a unit test; a broken one yields an empty list, never a panic.
        let mut states = serde_json::from_str::<Directory>(raw)
            .map(|d| d.states)
            .unwrap_or_default();
        add_hindi_names(&mut states);
        states
    })
}

/// The state with LGD code `code`.
pub fn state(code: u32) -> Option<&'static State> {
    states().iter().find(|s| s.state_code == code)
}

/// The district `district` of state `state_code`.
pub fn district(state_code: u32, district: u32) -> Option<&'static District> {
    state(state_code)?
        .districts
        .iter()
        .find(|d| d.district_code == district)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bihar_and_chhattisgarh_have_hindi_names_for_every_district() {
        for code in [10, 22] {
            let s = state(code).unwrap();
            assert!(s.state_name_hi.is_some(), "{}", s.state_name);
            for d in &s.districts {
                assert!(d.district_name_hi.is_some(), "{}", d.district_name);
            }
        }
        assert_eq!(state(10).unwrap().state_name_hi.as_deref(), Some("बिहार"));
        assert_eq!(
            district(10, 212).unwrap().district_name_hi.as_deref(),
            Some("पटना")
        );
        assert_eq!(
            district(22, 374).unwrap().district_name_hi.as_deref(),
            Some("बस्तर")
        );
    }

    #[test]
    fn embedded_list_has_bihar_and_chhattisgarh() {
        assert!(states().len() > 30);
        assert!(state(10)
            .unwrap()
            .state_name
            .to_uppercase()
            .contains("BIHAR"));
        assert!(district(10, 212)
            .unwrap()
            .district_name
            .to_uppercase()
            .contains("PATNA"));
        assert!(district(22, 374)
            .unwrap()
            .district_name
            .to_uppercase()
            .contains("BASTAR"));
        assert!(district(10, 374).is_none(), "Bastar is not in Bihar");
    }
}

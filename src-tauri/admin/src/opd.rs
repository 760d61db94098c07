//! `swagat-admin register`: a scanned QR and/or JSON fields into one registration.

use std::path::Path;

use serde_json::{json, Value};
use swagat_core::opd::{PatientInput, RegisterRequest};
use swagat_core::{Actor, Kiosk};

use crate::cli::read_input;
use crate::output::CliError;

/// Registers from `qr` (a scanner's text) and/or `fields` (JSON); JSON fields win over the QR's.
pub fn register(
    kiosk: &Kiosk,
    department: String,
    qr: Option<&Path>,
    fields: Option<&Path>,
    waiver: Option<String>,
) -> Result<Value, CliError> {
    let mut merged = serde_json::Map::new();
    let mut qr_info = Value::Null;
    if let Some(q) = qr {
        let raw = read_input(q)?;
        let scanned = kiosk.scan(&raw)?;
        qr_info = json!({ "kind": scanned.kind, "signature": scanned.signature, "warnings": scanned.warnings });
        if let Value::Object(m) =
            serde_json::to_value(&scanned.input).map_err(|e| CliError::Other(e.to_string()))?
        {
            merged.extend(m.into_iter().filter(|(_, v)| !v.is_null()));
        }
    }
    if let Some(f) = fields {
        match serde_json::from_str::<Value>(&read_input(f)?) {
            Ok(Value::Object(m)) => {
                for (k, v) in m {
                    if k == "address" {
                        let addr = merged.entry("address").or_insert_with(|| json!({}));
                        if let (Value::Object(a), Value::Object(b)) = (addr, v) {
                            a.extend(b);
                        }
                    } else {
                        merged.insert(k, v);
                    }
                }
            }
            Ok(_) => return Err(CliError::Input("the JSON must be an object".into())),
            Err(e) => return Err(CliError::Input(format!("invalid JSON: {e}"))),
        }
    }
    if merged.is_empty() {
        return Err(CliError::Input("give --qr FILE and/or --json FILE".into()));
    }
    let input: PatientInput = serde_json::from_value(Value::Object(merged))
        .map_err(|e| CliError::Input(format!("invalid patient fields: {e}")))?;
    let reg = kiosk.register(
        &Actor::Cli,
        &RegisterRequest {
            department,
            patient: Some(input),
            patient_id: None,
            waiver,
            waiver_reason: None,
        },
    )?;
    let mut out = json!({
        "patient_id": reg.patient_id,
        "uhid": reg.uhid,
        "visit_id": reg.visit_id,
        "token": reg.token,
        "returning": reg.returning,
        "visit_type": reg.visit_type,
        "fee_rupees": reg.fee_rupees,
        "valid_until": reg.valid_until,
        "warnings": reg.warnings,
        "possible_duplicates": reg.possible_duplicates,
        "repeat_today": reg.repeat_today,
        "department": reg.department.code,
    });
    if !qr_info.is_null() {
        out["qr"] = qr_info;
    }
    Ok(out)
}

/// `decode-qr`: the identity crate's summary of a scanned code, as JSON. Unrecognised or broken
/// input is an input error (exit 2) with a one-line reason.
pub fn decode_qr(file: Option<&Path>, certs: Option<&Path>) -> Result<Value, CliError> {
    let raw = match file {
        Some(p) => std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", p.display())))?,
        None => read_input(Path::new("-"))?,
    };
    let summary = swagat_core::scan::summary(&raw, certs)?;
    serde_json::to_value(summary).map_err(|e| CliError::Other(e.to_string()))
}

/// `slip`: writes the visit's slip as PDF and/or PNG; audited as an export.
pub fn slip(
    kiosk: &Kiosk,
    visit: &str,
    size: &str,
    out: Option<&Path>,
    png: Option<&Path>,
) -> Result<Value, CliError> {
    use swagat_core::slip::SlipFormat;
    if out.is_none() && png.is_none() {
        return Err(CliError::Input(
            "give --out FILE.pdf and/or --png FILE.png".into(),
        ));
    }
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
    };
    let mut result = json!({ "visit_id": visit });
    if let Some(path) = out {
        let format = if size == "80mm" {
            SlipFormat::Pdf80mm
        } else {
            SlipFormat::PdfA6
        };
        let pdf = kiosk.slip_export(&Actor::Cli, visit, format)?;
        write(path, &pdf)?;
        result["pdf"] = json!(path);
        result["pdf_bytes"] = json!(pdf.len());
        result["size"] = json!(size);
    }
    if let Some(path) = png {
        let bytes = kiosk.slip_export(&Actor::Cli, visit, SlipFormat::Png)?;
        write(path, &bytes)?;
        result["png"] = json!(path);
        result["png_bytes"] = json!(bytes.len());
    }
    Ok(result)
}

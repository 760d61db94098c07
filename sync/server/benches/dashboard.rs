//! Dashboard benchmark at state scale: `cargo bench -p swagat-server --bench dashboard`.
//!
//! Seeds PostgreSQL (`SWAGAT_TEST_PG_URL`, required) with `SWAGAT_BENCH_VISITS` visits
//! (default 10,000,000) over 1,000 facilities in 38 districts, spread over the last 365 days,
//! straight into the typed projections with `COPY` (plus the per-facility-day totals computed
//! by the same SQL as ingest), then measures p50/p95 over `SWAGAT_BENCH_ROUNDS` (default 40)
//! requests each of: the state overview (HTML), a district overview (HTML), the summary API
//! for the state (JSON), a facility page (HTML and JSON) and the slip page `/s/…`, through the
//! real router over loopback with a real session. Re-running reuses a seed of the same size.
//! Figures are printed and written as JSON to `SWAGAT_BENCH_OUT` (default
//! `$CARGO_TARGET_DIR/dashboard-bench.json`). The goal is p95 ≤ 100 ms for each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::SinkExt;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use swagat_server::dashboard::data::{day, today};
use swagat_server::store::{NewFacility, Sql};
use swagat_server::{secrets, DbStore, Store};
use uuid::Uuid;

const FACILITIES: usize = 1000;
const DISTRICTS: usize = 38;
const DAYS: i64 = 365;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn district_of(i: usize) -> u32 {
    200 + (i % DISTRICTS) as u32
}

async fn seed(store: &DbStore, pg: &tokio_postgres::Client, visits: usize) -> Vec<(Uuid, String)> {
    let mut facs: Vec<(Uuid, String)> = Vec::new();
    for i in 0..FACILITIES {
        let code = format!("BENCH{i:04}");
        let rows = store
            .sql_query(
                "SELECT id FROM facilities WHERE code = ?1".into(),
                vec![Sql::Text(code.clone())],
            )
            .await
            .unwrap();
        let id = match rows.first() {
            Some(r) => Uuid::parse_str(&r[0].str()).unwrap(),
            None => {
                store
                    .add_facility(
                        NewFacility {
                            code: code.clone(),
                            name: format!("Bench PHC {i}"),
                            hfr_id: None,
                            state_lgd: Some(10),
                            district_lgd: Some(district_of(i)),
                        },
                        secrets::hash_enrollment_code(&secrets::new_enrollment_code()),
                    )
                    .await
                    .unwrap()
                    .id
            }
        };
        facs.push((id, code));
    }
    let ids: Vec<Uuid> = facs.iter().map(|f| f.0).collect();
    let have: i64 = pg
        .query_one(
            "SELECT COUNT(*) FROM proj_visits WHERE facility_id = ANY($1)",
            &[&ids],
        )
        .await
        .unwrap()
        .get(0);
    if have as usize == visits {
        println!("reusing the seed of {visits} visits");
        return facs;
    }
    println!(
        "seeding {visits} visits over {FACILITIES} facilities in {DISTRICTS} districts (COPY)…"
    );
    let t = Instant::now();
    pg.execute(
        "DELETE FROM proj_visits WHERE facility_id = ANY($1)",
        &[&ids],
    )
    .await
    .unwrap();
    pg.execute(
        "DELETE FROM proj_visit_daily WHERE facility_id = ANY($1)",
        &[&ids],
    )
    .await
    .unwrap();
    pg.execute(
        "DELETE FROM proj_patients WHERE facility_id = ANY($1)",
        &[&ids],
    )
    .await
    .unwrap();
    // Bulk load: the secondary indexes are dropped for the COPY and built again after it (with
    // a large sort memory), as an operator loading a state's history would; the primary keys
    // stay, so the load still proves the rows are unique.
    pg.batch_execute(
        "SET maintenance_work_mem = '1GB';
         DROP INDEX IF EXISTS proj_visits_facility_date;
         DROP INDEX IF EXISTS proj_visits_patient;",
    )
    .await
    .unwrap();
    let device = Uuid::now_v7();
    let end = today();
    let mut rng = StdRng::seed_from_u64(12);
    let patients = (visits / 10).max(1);
    let mut pids = Vec::with_capacity(patients);
    {
        let sink = pg.copy_in("COPY proj_patients (record_id, facility_id, uhid, name, gender, birth_date, hlc, device_id) FROM STDIN").await.unwrap();
        futures_util::pin_mut!(sink);
        let mut buf = String::new();
        for i in 0..patients {
            let id = Uuid::now_v7();
            let f = facs[i % FACILITIES].0;
            pids.push((id, f));
            let g = ["M", "F", "F", "M", "T"][i % 5];
            buf.push_str(&format!(
                "{id}\t{f}\tBN-{i:08}\tPatient {i}\t{g}\t{}-06-15\t1\t{device}\n",
                rng.random_range(1940..2025)
            ));
            if buf.len() > 1 << 20 {
                sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                    .await
                    .unwrap();
            }
        }
        sink.send(bytes::Bytes::from(buf)).await.unwrap();
        sink.finish().await.unwrap();
    }
    {
        let sink = pg
            .copy_in("COPY proj_visits (record_id, facility_id, patient_id, visit_date, department, token, visit_type, fee_rupees, waiver_code, valid_until, created_at, cancelled, abha_linked, scan_share, gender, age_band, hlc, device_id) FROM STDIN")
            .await
            .unwrap();
        futures_util::pin_mut!(sink);
        let mut buf = String::new();
        const DEPTS: [&str; 6] = ["general", "maternal", "paediatrics", "ncd", "dental", "eye"];
        const BANDS: [&str; 6] = ["0-4", "5-14", "15-29", "30-44", "45-59", "60+"];
        for i in 0..visits {
            let (pid, f) = pids[i % patients];
            let d = day(end - time::Duration::days(rng.random_range(0..DAYS)));
            let follow = rng.random_bool(0.3);
            let waiver = rng.random_bool(0.2);
            buf.push_str(&format!(
                "{}\t{f}\t{pid}\t{d}\t{}\tA-{:03}\t{}\t{}\t{}\t{d}\t{d}T04:30:00Z\t{}\t{}\t0\t{}\t{}\t1\t{device}\n",
                Uuid::now_v7(),
                DEPTS[i % 6],
                i % 300 + 1,
                if follow { "follow_up" } else { "new" },
                if follow || waiver { 0 } else { 10 },
                if waiver { "bpl" } else { "\\N" },
                i32::from(rng.random_bool(0.02)),
                i32::from(rng.random_bool(0.4)),
                ["M", "F"][i % 2],
                BANDS[i % 6],
            ));
            if buf.len() > 1 << 20 {
                sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                    .await
                    .unwrap();
            }
        }
        sink.send(bytes::Bytes::from(buf)).await.unwrap();
        sink.finish().await.unwrap();
    }
    pg.batch_execute(
        "CREATE INDEX IF NOT EXISTS proj_visits_facility_date ON proj_visits (facility_id, visit_date);
         CREATE INDEX IF NOT EXISTS proj_visits_patient ON proj_visits (patient_id);",
    )
    .await
    .unwrap();
    println!("copied and indexed in {:.1} s", t.elapsed().as_secs_f64());
    // The per-facility-day totals, by the same aggregation ingest uses for one day.
    let daily = swagat_server::projections::DAILY_INSERT_SQL.replace(
        "WHERE facility_id = ?1 AND visit_date = ?2",
        "WHERE facility_id = ANY($1)",
    );
    pg.execute(&daily, &[&ids]).await.unwrap();
    pg.batch_execute("ANALYZE proj_visits; ANALYZE proj_visit_daily; ANALYZE proj_patients;")
        .await
        .unwrap();
    println!("seeded in {:.1} s", t.elapsed().as_secs_f64());
    facs
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; under `cargo test --all-targets` do nothing (too long).
    if !std::env::args().any(|a| a == "--bench") {
        println!("dashboard: benchmark skipped (run it with `cargo bench --workspace --bench dashboard`)");
        return;
    }
    let Ok(url) = std::env::var("SWAGAT_TEST_PG_URL") else {
        eprintln!("SWAGAT_TEST_PG_URL is not set: the dashboard bench needs PostgreSQL");
        return;
    };
    let visits = env_usize("SWAGAT_BENCH_VISITS", 10_000_000);
    let rounds = env_usize("SWAGAT_BENCH_ROUNDS", 40);
    let loadavg_start = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = Arc::new(DbStore::open(&url).await.unwrap());
        let (pg, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let facs = seed(&store, &pg, visits).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let s = store.clone();
        tokio::spawn(async move {
            swagat_server::serve(s, listener, std::future::pending())
                .await
                .unwrap()
        });
        let name = format!("bench-{}", Uuid::now_v7().simple());
        swagat_server::users::add(&*store, &name, "state", None, None, "bench password")
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{base}/login"))
            .form(&[("name", name.as_str()), ("password", "bench password")])
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        // A visit of facility 0 for the slip page.
        let f0 = facs[0].0;
        let vid: Uuid = pg
            .query_one(
                "SELECT record_id FROM proj_visits WHERE facility_id = $1 LIMIT 1",
                &[&f0],
            )
            .await
            .unwrap()
            .get(0);
        let key = store.facility_slip_key(f0).await.unwrap().unwrap();
        let slip = format!(
            "/s/{vid}?k={}",
            swagat_server::slip_page::link_mac(&key, &vid.to_string())
        );
        let to = day(today());
        let from = day(today() - time::Duration::days(29));
        let cases = [
            (
                "state_overview_html",
                format!("/dashboard?from={from}&to={to}"),
            ),
            (
                "district_overview_html",
                format!("/dashboard?from={from}&to={to}&district={}", district_of(0)),
            ),
            (
                "state_summary_json",
                format!("/api/v1/dashboard/summary?from={from}&to={to}"),
            ),
            (
                "district_summary_json",
                format!(
                    "/api/v1/dashboard/summary?from={from}&to={to}&district={}",
                    district_of(0)
                ),
            ),
            (
                "facility_page_html",
                format!("/dashboard/facility/{}?from={from}&to={to}", facs[0].1),
            ),
            (
                "facility_page_json",
                format!(
                    "/api/v1/dashboard/facility/{}?from={from}&to={to}",
                    facs[0].1
                ),
            ),
            ("slip_page", slip),
        ];
        let mut out = serde_json::Map::new();
        for (name, path) in &cases {
            let mut ms = Vec::new();
            for i in 0..rounds + 3 {
                let t = Instant::now();
                let mut rb = http.get(format!("{base}{path}"));
                if *name != "slip_page" {
                    rb = rb.header("cookie", &cookie);
                } else {
                    // The slip page's per-address limit is not what is measured here.
                    rb = rb.header("x-bench", i.to_string());
                }
                let r = rb.send().await.unwrap();
                let status = r.status();
                let _ = r.bytes().await.unwrap();
                assert!(status.is_success(), "{name}: {status}");
                if i >= 3 {
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                if *name == "slip_page" && i % 50 == 49 {
                    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
                }
            }
            let (p50, p95) = (pct(ms.clone(), 0.5), pct(ms, 0.95));
            println!("{name:24} p50 {p50:7.1} ms   p95 {p95:7.1} ms");
            out.insert(name.to_string(), json!({"p50_ms": p50, "p95_ms": p95}));
        }
        let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let goal_met = out
            .values()
            .all(|v| v["p95_ms"].as_f64().is_some_and(|p| p <= 100.0));
        let result = json!({
            "visits": visits, "facilities": FACILITIES, "districts": DISTRICTS, "rounds": rounds,
            "range_days": 30, "goal_p95_ms": 100, "goal_met": goal_met,
            "machine": {
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
                "loadavg_at_start": loadavg_start.trim(), "loadavg_at_end": loadavg.trim(),
            },
            "results": out,
        });
        let path = std::env::var("SWAGAT_BENCH_OUT").unwrap_or_else(|_| {
            format!(
                "{}/dashboard-bench.json",
                std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into())
            )
        });
        let _ = std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap());
        println!("written to {path}");
    });
}

//! Rendering speed of the example slip: A6 PDF, 80 mm PDF, thermal raster (+ ESC/POS, + PNG as
//! the token screen's preview); then the token screen's preview and the A6 print of a new visit
//! each time (`*_new_visit`: another QR URL, patient name, UHID and token per slip, so no QR
//! symbol or shaped name is reused, as at the counter).
//! Run: `cargo bench -p swagat-slip --bench render`; sizes are printed once at the start.
#![allow(clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use swagat_slip::{render_pdf, render_raster, SlipData, SlipSize};

fn bench(c: &mut Criterion) {
    let data = SlipData::example();
    let a6 = render_pdf(&data, SlipSize::A6).unwrap();
    let roll = render_pdf(&data, SlipSize::Roll80).unwrap();
    let raster = render_raster(&data).unwrap();
    println!(
        "sizes: A6 PDF {} B, 80 mm PDF {} B, raster {}x{} dots, PNG {} B, ESC/POS {} B",
        a6.len(),
        roll.len(),
        raster.width(),
        raster.height(),
        raster.to_png().unwrap().len(),
        raster.to_escpos().len()
    );
    c.bench_function("pdf_a6", |b| {
        b.iter(|| render_pdf(black_box(&data), SlipSize::A6).unwrap())
    });
    c.bench_function("pdf_80mm", |b| {
        b.iter(|| render_pdf(black_box(&data), SlipSize::Roll80).unwrap())
    });
    c.bench_function("raster_80mm", |b| {
        b.iter(|| render_raster(black_box(&data)).unwrap())
    });
    c.bench_function("raster_80mm_escpos", |b| {
        b.iter(|| render_raster(black_box(&data)).unwrap().to_escpos())
    });
    // The token screen's preview.
    c.bench_function("raster_80mm_png", |b| {
        b.iter(|| render_raster(black_box(&data)).unwrap().to_png().unwrap())
    });
    let names = [
        "Sunita Devi",
        "Ramesh Kumar",
        "Pooja Yadav",
        "Lakshmi Prasad",
        "Vikas Singh",
    ];
    let visit = |i: usize| {
        let mut d = data.clone();
        d.qr_url = format!("https://swagat.example.in/s/01J9ZK8M4V{i:08}?k=Ab3xY9q");
        d.patient_name_en = format!("{} {}", names[i % 5], names[(i / 5) % 5]);
        d.uhid = format!("BR-PAT-{i:08}");
        d.token = format!("A-{:03}", i % 1000);
        d
    };
    let mut i = 0;
    c.bench_function("raster_80mm_png_new_visit", |b| {
        b.iter_batched(
            || {
                i += 1;
                visit(i)
            },
            |d| render_raster(&d).unwrap().to_png().unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("pdf_a6_new_visit", |b| {
        b.iter_batched(
            || {
                i += 1;
                visit(i)
            },
            |d| render_pdf(&d, SlipSize::A6).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

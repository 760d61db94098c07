//! Writes preview files of the example slip: `cargo run -p swagat-slip --example preview [DIR]`.
//!
//! Produces slip-a6.pdf, slip-80mm.pdf, slip-80mm-raster.png and slip-80mm.escpos in DIR
//! (default: the system temp dir + "swagat-slip-preview").

use std::path::PathBuf;

use swagat_slip::{render_pdf, render_raster, SlipData, SlipSize};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("swagat-slip-preview"));
    std::fs::create_dir_all(&dir)?;
    let mut data = SlipData::example();
    if std::env::var_os("REPRINT").is_some() {
        data.reprint = Some("REPRINT 2 / पुनर्मुद्रण".into());
    }
    let a6 = render_pdf(&data, SlipSize::A6)?;
    let roll = render_pdf(&data, SlipSize::Roll80)?;
    let raster = render_raster(&data)?;
    std::fs::write(dir.join("slip-a6.pdf"), &a6)?;
    std::fs::write(dir.join("slip-80mm.pdf"), &roll)?;
    std::fs::write(dir.join("slip-80mm-raster.png"), raster.to_png()?)?;
    std::fs::write(dir.join("slip-80mm.escpos"), raster.to_escpos())?;
    println!(
        "A6 PDF {} B, 80 mm PDF {} B, raster {}x{} -> {}",
        a6.len(),
        roll.len(),
        raster.width(),
        raster.height(),
        dir.display()
    );
    Ok(())
}

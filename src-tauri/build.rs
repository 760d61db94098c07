//! Build script of the desktop shell: generates Tauri's context from the root `tauri.conf.json` and
//! points tauri-build at `src-tauri/capabilities` (its default, `./capabilities`, would silently grant
//! nothing in this layout).
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=tauri.conf.json");
    if let Err(e) = tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    ) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}

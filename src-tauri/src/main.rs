//! The Swagat desktop app's entry point; everything is in the library so tests can drive it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    swagat_lib::run();
}

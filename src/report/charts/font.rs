//! The embedded font: DejaVu Sans (a free licence) from the `dejavu` crate, so text is laid out
//! the same on every machine, with no system fonts or fontconfig.

use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// The family name every chart asks for.
pub const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold) under [`FAMILY`], once per process.
pub fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let bad = |_| "the embedded DejaVu Sans font is unreadable".to_string();
            register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).map_err(bad)?;
            register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).map_err(bad)
        })
        .clone()
}

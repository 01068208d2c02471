//! Lets the crate's own `cargo test` binaries find libpython at run time (an rpath to the
//! interpreter's library directory); the wheel maturin builds does not link libpython at all.

fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}

//! The built-in suite as `cargo test` trials: one per scenario under specs/.
fn main() {
    contend::harness::run_dir("specs").exit();
}

//! criterion benchmarks of every hot path; see `benches/`. Run with `cargo bench -p faxsim-benches`.

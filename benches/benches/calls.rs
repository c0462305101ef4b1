//! CPU time of a whole call over G.711 A-law: our engine pair against spandsp's pair, the
//! same 3-page fine document at V.17 14400 with ECM, built by the same code as
//! `faxsim bench` (`sim::cmd::bench::bench_session`) and run through `sim::session`.
//! Few samples: one call is tens of milliseconds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sim::call::ChannelPreset;
use sim::cmd::bench::{bench_session, sample_document};
use sim::cmd::call::EndpointKind;
use sim::session::run_session;
use t30::frame::dis::modem_name::Modem;

fn whole_calls(c: &mut Criterion) {
    let pages = sample_document(3).expect("sample document");
    let channel = ChannelPreset::from_name("g711-alaw").expect("g711-alaw preset");
    let work = tempfile::tempdir().expect("temporary directory");
    let mut kinds = vec![("builtin-builtin", EndpointKind::Builtin)];
    if spandsp_peer::require().is_some() {
        kinds.push(("spandsp-spandsp", EndpointKind::Spandsp));
    }
    let mut group = c.benchmark_group("call/g711-alaw/v17-ecm/3-fine-pages");
    for (name, kind) in kinds {
        let session = bench_session(kind, &channel, Modem::V17, true, &pages);
        // Time a call that works.
        let out = run_session(&session, work.path(), false).expect("call runs");
        assert_eq!(out.caller.status, "SUCCESS", "{name}");
        assert_eq!(out.answerer.status, "SUCCESS", "{name}");
        group.bench_function(name, |b| {
            b.iter(|| black_box(run_session(&session, work.path(), false).expect("call runs")))
        });
    }
    group.finish();
}

criterion_group! {
    name = calls;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    targets = whole_calls
}
criterion_main!(calls);

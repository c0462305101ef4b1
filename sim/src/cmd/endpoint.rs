//! `faxsim endpoint --audio-stdio`: our engine as a sample-stream endpoint.
//!
//! It reads signed 16-bit little-endian mono 8 kHz samples on stdin and writes the same on
//! stdout, in lockstep: for every 160-sample block read (a short last block is padded with
//! silence) it writes exactly one 160-sample block, what it sends over the same 20 ms, and
//! flushes. At end of input it writes the outcome record (and the received document) and
//! exits 0; only bad arguments or I/O errors give another status.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Args;
use t30::SampleTime;
use t30::engine::codec::{CodedDocument, DecodingSink};
use t30::engine::{DocumentSource, Role};
use t30::image::load::load_document_coded;
use t30::image::store::CodedPage;
use t30::image::tiff::{TiffWriteOptions, write_tiff_document};

use super::CliError;
use super::call::{CallSetup, EndpointKind, engine_config, setup_from_parts};
use crate::call::{BLOCK, ChannelPreset};
use crate::endpoint::builtin::Builtin;
use crate::endpoint::{Endpoint, EndpointOutcome, Record};

/// Arguments of `faxsim endpoint`.
#[derive(Debug, Clone, Args)]
pub struct EndpointArgs {
    /// caller or answerer.
    #[arg(long, value_parser = ["caller", "answerer"])]
    pub role: String,
    /// Document to send.
    #[arg(long, value_name = "FILE.tif", conflicts_with = "receive")]
    pub send: Option<PathBuf>,
    /// Where to write the received document (TIFF-F).
    #[arg(long, value_name = "FILE.tif")]
    pub receive: Option<PathBuf>,
    /// Error correction mode offered.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub ecm: String,
    /// Fast modems offered, comma separated: v17, v29, v27ter.
    #[arg(long, default_value = "v17,v29,v27ter")]
    pub modems: String,
    /// Codings offered, comma separated: mh, mr, mmr.
    #[arg(long, default_value = "mh,mr,mmr")]
    pub codings: String,
    /// Exchange audio on stdin/stdout (the only transport so far; required).
    #[arg(long, required = true)]
    pub audio_stdio: bool,
    /// Where to write the outcome record (JSON).
    #[arg(long, value_name = "FILE.json")]
    pub result: PathBuf,
}

/// Runs `faxsim endpoint`.
pub fn run(args: EndpointArgs) -> Result<(), CliError> {
    let role = if args.role == "caller" {
        Role::Caller
    } else {
        Role::Answerer
    };
    if args.send.is_none() && args.receive.is_none() {
        return Err(CliError::usage(
            "give --send FILE.tif or --receive FILE.tif",
        ));
    }
    let setup: CallSetup = setup_from_parts(
        EndpointKind::Builtin,
        EndpointKind::Builtin,
        ChannelPreset::clean(),
        &args.ecm,
        &args.modems,
        &args.codings,
        0,
        u64::MAX / 8000,
    )?;
    let mut cfg = engine_config(&setup, role);
    let docs: Vec<Box<dyn DocumentSource>> = match &args.send {
        Some(p) => {
            let pages = load_document_coded(p).map_err(|e| CliError::usage(e.to_string()))?;
            vec![Box::new(CodedDocument::new(pages))]
        }
        None => Vec::new(),
    };
    cfg.receive = args.receive.is_some();
    let (sink, kept) = DecodingSink::new();
    let mut ep = Builtin::new(cfg, docs, Some(Box::new(sink)), Some(kept.clone()))
        .map_err(CliError::usage)?;

    let io = |e: std::io::Error| CliError::failure(format!("audio stream: {e}"));
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut inb = [0u8; 2 * BLOCK];
    let mut outb = [0u8; 2 * BLOCK];
    let (mut rx, mut tx) = ([0i16; BLOCK], [0i16; BLOCK]);
    let mut now = SampleTime::ZERO;
    ep.start(now);
    loop {
        let mut got = 0;
        while got < inb.len() {
            match stdin.read(&mut inb[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        if got == 0 {
            break;
        }
        inb[got..].fill(0);
        for (s, c) in rx.iter_mut().zip(inb.chunks_exact(2)) {
            *s = i16::from_le_bytes([c[0], c[1]]);
        }
        ep.transmit(now, &mut tx);
        for (c, s) in outb.chunks_exact_mut(2).zip(tx.iter()) {
            c.copy_from_slice(&s.to_le_bytes());
        }
        stdout.write_all(&outb).map_err(io)?;
        stdout.flush().map_err(io)?;
        ep.receive(now, &rx);
        now += SampleTime(BLOCK as u64);
        if got < inb.len() {
            break;
        }
    }
    if !ep.finished() {
        ep.line_cleared(now);
    }
    let mut record = match ep.outcome() {
        Some(EndpointOutcome::Builtin(o)) => Record::from_outcome(&o),
        _ => unreachable!("a cleared engine has an outcome"),
    };
    record.scenario = "endpoint".into();
    record.role = args.role.clone();
    record.endpoint = "builtin".into();
    if let Some(p) = &args.receive {
        let pages: Vec<CodedPage> = kept
            .lock()
            .map(|v| v.iter().map(|p| p.page.clone()).collect())
            .unwrap_or_default();
        if !pages.is_empty() {
            let opts = TiffWriteOptions::new(t30::image::Coding::Mmr);
            let fail = |e: String| CliError::failure(format!("{}: {e}", p.display()));
            let file = std::fs::File::create(p).map_err(|e| fail(e.to_string()))?;
            write_tiff_document(std::io::BufWriter::new(file), &pages, None, &opts)
                .map_err(|e| fail(e.to_string()))?;
            record.files.tiff = Some(p.display().to_string());
        }
    }
    let text = serde_json::to_string_pretty(&record).expect("records serialise");
    std::fs::write(&args.result, text + "\n")
        .map_err(|e| CliError::failure(format!("{}: {e}", args.result.display())))?;
    Ok(())
}

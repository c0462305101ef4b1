//! `faxsim channel`: runs a WAV file through one direction of a channel, so a user can hear
//! and inspect what a preset or a chain file does to a fax signal.

use std::path::PathBuf;

use channel_models::AudioStage;
use channel_models::chain::{Chain, ChainSpec, PRESETS};
use clap::{Args, ValueEnum};

use super::CliError;
use crate::wav::{WavAudio, write_8k_mono};

/// Which channel of a stereo input.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StereoChannel {
    /// The left (first) channel.
    Left,
    /// The right (second) channel.
    Right,
}

/// Arguments of `faxsim channel`.
#[derive(Debug, Args)]
pub struct ChannelArgs {
    /// List the presets with their stages and exit.
    #[arg(long, conflicts_with_all = ["preset", "chain"])]
    pub list: bool,
    /// A named preset.
    #[arg(long, conflicts_with = "chain")]
    pub preset: Option<String>,
    /// A chain in TOML (`--list` prints every preset in this form).
    #[arg(long, value_name = "FILE.toml")]
    pub chain: Option<PathBuf>,
    /// Master seed of the chain's random stages.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Which channel of a stereo input to use.
    #[arg(long, value_enum, default_value = "left")]
    pub channel: StereoChannel,
    /// Input WAV (any rate and sample format; resampled to 8000 Hz).
    pub input: Option<PathBuf>,
    /// Output WAV, 8000 Hz mono 16-bit.
    pub output: Option<PathBuf>,
}

/// Runs `faxsim channel`.
pub fn run(args: ChannelArgs) -> Result<(), CliError> {
    if args.list {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for name in PRESETS {
            let spec = ChainSpec::preset(name).expect("every listed preset exists");
            // A closed pipe (`| head`) just ends the listing.
            if writeln!(out, "# {name}: {}\n{}", spec.description, spec.to_toml()).is_err() {
                break;
            }
        }
        return Ok(());
    }
    let spec = match (&args.preset, &args.chain) {
        (Some(name), None) => ChainSpec::preset(name).ok_or_else(|| {
            CliError::usage(format!(
                "unknown preset '{name}' (one of: {})",
                PRESETS.join(", ")
            ))
        })?,
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
            ChainSpec::from_toml(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?
        }
        _ => return Err(CliError::usage("give --preset NAME or --chain FILE.toml")),
    };
    if spec.t38.is_some() {
        return Err(CliError::usage(
            "a T.38 path carries packets, not audio: it cannot process a WAV file",
        ));
    }
    let (Some(input), Some(output)) = (&args.input, &args.output) else {
        return Err(CliError::usage("give IN.wav and OUT.wav"));
    };
    let audio = WavAudio::read(input).map_err(|e| CliError::usage(e.to_string()))?;
    let index = match args.channel {
        StereoChannel::Left => 0,
        StereoChannel::Right => 1,
    };
    let samples = audio
        .to_8k(index)
        .map_err(|e| CliError::usage(format!("{}: {e}", input.display())))?;
    let mut chain = Chain::build(&spec, args.seed).map_err(|e| CliError::usage(e.to_string()))?;
    if spec.far_end_echo.is_some() {
        // Talker echo couples both directions; one WAV has only one.
        eprintln!(
            "note: far_end_echo (talker echo) applies in calls only; not in this one-direction run"
        );
    }
    let mut out = Vec::with_capacity(samples.len());
    for block in samples.chunks(160) {
        chain.process(block, &mut out);
    }
    write_8k_mono(output, &out).map_err(|e| CliError::failure(e.to_string()))?;
    eprintln!(
        "{}: {} samples through {} stage(s): {}",
        output.display(),
        out.len(),
        chain.labels().len(),
        chain.labels().join(", ")
    );
    Ok(())
}

//! `faxsim errors`: the completion vocabulary — every code, name, exact string, and when it
//! happens — so a pipeline author can see every outcome faxsim can produce.

use clap::Args;
use serde::Serialize;
use t30::completion::{Completion, PipelineError};

use super::CliError;

/// Arguments of `faxsim errors`.
#[derive(Debug, Args)]
pub struct ErrorsArgs {
    /// Print JSON (an array of objects) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Entry {
    /// Numeric code for T.30 completion codes; absent for pipeline outcomes.
    code: Option<u8>,
    name: String,
    layer: &'static str,
    string: &'static str,
    explanation: &'static str,
}

fn entries() -> Vec<Entry> {
    let t30 = Completion::all().map(|c| Entry {
        code: Some(c.code()),
        name: c.name().to_string(),
        layer: "t30",
        string: c.text(),
        explanation: c.explanation(),
    });
    let pipeline = PipelineError::all().map(|p| Entry {
        code: None,
        name: format!("{p:?}"),
        layer: "pipeline",
        string: p.text(),
        explanation: p.explanation(),
    });
    t30.chain(pipeline).collect()
}

/// Runs `faxsim errors`.
pub fn run(args: ErrorsArgs) -> Result<(), CliError> {
    let list = entries();
    if args.json {
        let text = serde_json::to_string_pretty(&list)
            .map_err(|e| CliError::failure(format!("cannot serialise the table: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    for e in &list {
        let code = e.code.map_or("-".to_string(), |c| c.to_string());
        println!("{code:>3}  {:<27} {}", e.name, e.string);
        println!("     {:<27} {}", "", e.explanation);
    }
    Ok(())
}

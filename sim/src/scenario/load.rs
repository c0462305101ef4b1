//! Reading scenario files: TOML → [`ScenarioSpec`] → [`Scenario`], every error with file, key
//! and line.

use std::path::{Path, PathBuf};

use channel_models::chain::{ChainSpec, StageSpec};
use t30::SampleTime;
use t30::engine::{
    Coding, Config, DisRepeat, FrameFault, FrameRule, Operator, Resolution, Role, TcfFault,
    Turnaround,
};
use t30::frame::dis::modem_name::Modem;
use t30::image::load::{DOCUMENT_GENERATION_ERROR, DOCUMENT_LOADING_ERROR, load_document_coded};
use t30::image::store::{CodedPage, Document};
use t30::image::testpage::{TestPageKind, TestPageOptions, make_test_page};

use super::expect::Expectation;
use super::spec::*;
use super::{DocumentProblem, Scenario, ScenarioError, ScenarioSide};
use crate::cmd::call::{ANSWERER_IDENT, CALLER_IDENT};
use crate::session::{SideKind, Transport};

/// Folders under a scenario tree that hold data, not scenarios (chain files, documents).
pub const DATA_FOLDERS: &[&str] = &["chains", "data"];

/// Where in the source a byte offset lies: 1-based line, and the dotted key path there.
fn locate(src: &str, offset: usize) -> (usize, Option<String>) {
    let offset = offset.min(src.len());
    let line_no = src[..offset].matches('\n').count() + 1;
    let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
    let line = &src[line_start..line_end];
    let before = &src[line_start..offset];
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    // In an inline table (`pages = [ { test = … } ]`) the key of the line comes first.
    let outer = before
        .split_once('=')
        .filter(|(_, rest)| rest.contains('{') || rest.contains('['))
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    // The innermost key: the name before the last '=' ahead of the offset, or the bare
    // word at the offset (an unknown key is reported at the key itself).
    let key = if let Some(eq) = before.rfind('=') {
        let k: String = before[..eq]
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| is_key_char(*c) || *c == '"')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Some(k.trim_matches('"').to_string())
    } else {
        let w: String = src[offset..line_end]
            .chars()
            .take_while(|c| is_key_char(*c))
            .collect();
        (!w.is_empty()).then_some(w)
    };
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        // A table header: the table itself is the key.
        let t = trimmed.trim_matches(|c| c == '[' || c == ']' || c == ' ');
        let t = t.split(']').next().unwrap_or(t).to_string();
        return (line_no, Some(t));
    }
    // The enclosing table: the last header above this line.
    let table = src[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            l.trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        });
    let key = match (outer, key) {
        (Some(o), Some(k)) if o != k => Some(format!("{o}.{k}")),
        (_, k) => k,
    };
    let key = match (table, key) {
        (Some(t), Some(k)) if !t.is_empty() && !k.is_empty() => Some(format!("{t}.{k}")),
        (_, Some(k)) if !k.is_empty() => Some(k),
        (Some(t), _) => Some(t),
        _ => None,
    };
    (line_no, key)
}

/// The line of `key = …` inside `[table]` (or at top level when `table` is empty).
fn line_of(src: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    let mut header_line = None;
    for (i, l) in src.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            current = t
                .trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .to_string();
            if current == table {
                header_line.get_or_insert(i + 1);
            }
            continue;
        }
        if current == table
            && let Some((k, _)) = t.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return Some(i + 1);
        }
    }
    header_line
}

struct Ctx<'a> {
    path: &'a Path,
    src: &'a str,
}

impl Ctx<'_> {
    fn at(&self, offset: usize, message: impl Into<String>) -> ScenarioError {
        let (line, key) = locate(self.src, offset);
        ScenarioError {
            file: self.path.to_path_buf(),
            line: Some(line),
            key,
            message: message.into(),
        }
    }

    fn key(&self, table: &str, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.path.to_path_buf(),
            line: line_of(self.src, table, key),
            key: Some(if table.is_empty() {
                key.to_string()
            } else {
                format!("{table}.{key}")
            }),
            message: message.into(),
        }
    }

    fn relative(&self, p: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(p)
    }
}

/// The id of a scenario file: its path under the nearest `scenarios` folder (or under
/// `root`), without `.toml`, with `/` separators.
fn scenario_id(path: &Path, root: Option<&Path>) -> String {
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let comps: Vec<String> = abs
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let rel: Vec<String> = if let Some(i) = comps.iter().rposition(|c| c == "scenarios") {
        comps[i + 1..].to_vec()
    } else if let Some(root) = root
        && let Ok(r) = abs.strip_prefix(root.canonicalize().unwrap_or(root.to_path_buf()))
    {
        r.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    } else {
        vec![
            path.file_name()
                .map_or(String::new(), |f| f.to_string_lossy().into_owned()),
        ]
    };
    let joined = rel.join("/");
    joined.strip_suffix(".toml").unwrap_or(&joined).to_string()
}

/// Reads and resolves one scenario file.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    load_with_root(path, None)
}

fn load_with_root(path: &Path, root: Option<&Path>) -> Result<Scenario, ScenarioError> {
    let src = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: None,
        key: None,
        message: format!("cannot read: {e}"),
    })?;
    let ctx = Ctx { path, src: &src };
    let spec: ScenarioSpec = toml::from_str(&src).map_err(|e| {
        let msg = e.message().replace('\n', " ");
        match e.span() {
            Some(span) => {
                let mut err = ctx.at(span.start, msg.trim().to_string());
                // An unknown key is named by the message; the span may point at its table.
                if let Some(rest) = msg.strip_prefix("unknown field `")
                    && let Some((field, _)) = rest.split_once('`')
                    && let Some(k) = err.key.as_mut()
                    && !k.ends_with(field)
                {
                    let parent = k.rsplit_once('.').map_or("", |(p, _)| p).to_string();
                    let base = if k.contains('.') && !src[span.start..].starts_with('[') {
                        parent
                    } else {
                        k.clone()
                    };
                    *k = if base.is_empty() {
                        field.to_string()
                    } else {
                        format!("{base}.{field}")
                    };
                }
                err
            }
            None => ScenarioError {
                file: path.to_path_buf(),
                line: None,
                key: None,
                message: msg.trim().to_string(),
            },
        }
    })?;
    resolve(&ctx, spec, scenario_id(path, root))
}

/// Every scenario under `paths` (files, or folders searched recursively for `*.toml`,
/// skipping the data folders `chains/` and `data/`), sorted by id. All bad files are
/// reported, not just the first.
pub fn load_dir(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect(p, p, &mut files, &mut errors);
        } else if p.exists() {
            files.push((p.clone(), None));
        } else {
            errors.push(ScenarioError {
                file: p.clone(),
                line: None,
                key: None,
                message: "no such file or folder".into(),
            });
        }
    }
    let mut out: Vec<Scenario> = Vec::new();
    for (f, root) in files {
        match load_with_root(&f, root.as_deref()) {
            Ok(s) => {
                if let Some(prev) = out.iter().find(|o| o.id == s.id) {
                    if prev.path.canonicalize().ok() != s.path.canonicalize().ok() {
                        errors.push(ScenarioError {
                            file: f.clone(),
                            line: None,
                            key: None,
                            message: format!("same id '{}' as {}", s.id, prev.path.display()),
                        });
                    }
                    continue;
                }
                out.push(s)
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    } else {
        Err(errors)
    }
}

fn collect(
    dir: &Path,
    root: &Path,
    files: &mut Vec<(PathBuf, Option<PathBuf>)>,
    errors: &mut Vec<ScenarioError>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ScenarioError {
                file: dir.to_path_buf(),
                line: None,
                key: None,
                message: format!("cannot read folder: {e}"),
            });
            return;
        }
    };
    let mut list: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    list.sort();
    for p in list {
        if p.is_dir() {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.is_some_and(|n| DATA_FOLDERS.contains(&n.as_str()) || n.starts_with('.')) {
                continue;
            }
            collect(&p, root, files, errors);
        } else if p.extension().is_some_and(|e| e == "toml") {
            files.push((p, Some(root.to_path_buf())));
        }
    }
}

fn chain_dir(ctx: &Ctx, d: &ChannelDir) -> Result<ChainSpec, ScenarioError> {
    let mut spec = match (&d.preset, &d.file) {
        (Some(_), Some(f)) => {
            return Err(ctx.at(f.span().start, "give either preset or file, not both"));
        }
        (Some(p), None) => p.1.clone(),
        (None, Some(f)) => {
            let p = ctx.relative(f.get_ref());
            let text = std::fs::read_to_string(&p)
                .map_err(|e| ctx.at(f.span().start, format!("{}: {e}", p.display())))?;
            ChainSpec::from_toml(&text)
                .map_err(|e| ctx.at(f.span().start, format!("{}: {e}", p.display())))?
        }
        (None, None) => ChainSpec::default(),
    };
    if let Some(n) = &d.name {
        spec.name = n.clone();
    }
    if let Some(n) = &d.description {
        spec.description = n.clone();
    }
    if let Some(st) = &d.stages {
        spec.stages.extend(st.iter().cloned());
    }
    if d.t38.is_some() {
        spec.t38 = d.t38;
    }
    Ok(spec)
}

fn uses_g729(spec: &ChainSpec) -> bool {
    spec.stages.iter().any(|s| matches!(s, StageSpec::G729))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Caller => "caller",
        Role::Answerer => "answerer",
    }
}

fn resolution(r: ResolutionName) -> Resolution {
    match r {
        ResolutionName::Standard => Resolution::Standard,
        ResolutionName::Fine => Resolution::Fine,
        ResolutionName::Superfine => Resolution::Superfine,
    }
}

fn image_resolution(r: ResolutionName) -> t30::image::Resolution {
    match r {
        ResolutionName::Standard => t30::image::Resolution::Standard,
        ResolutionName::Fine => t30::image::Resolution::Fine,
        ResolutionName::Superfine => t30::image::Resolution::Superfine,
    }
}

fn frame_fault(f: &FrameFaultSpec) -> FrameFault {
    match f {
        FrameFaultSpec::Drop => FrameFault::Drop,
        FrameFaultSpec::CorruptFcs => FrameFault::CorruptFcs,
        FrameFaultSpec::SilenceAfter => FrameFault::SilenceAfter,
        FrameFaultSpec::HangUpAfter => FrameFault::HangUpAfter,
        FrameFaultSpec::Replace(h) => FrameFault::Replace(h.0.clone()),
        FrameFaultSpec::InsertBefore(h) => FrameFault::InsertBefore(h.0.clone()),
        FrameFaultSpec::DelayMs(ms) => FrameFault::Delay(*ms),
        FrameFaultSpec::FlagsOnly(n) => FrameFault::FlagsOnly(*n),
        FrameFaultSpec::HoldCarrierMs(ms) => FrameFault::HoldCarrier(*ms),
    }
}

fn side(ctx: &Ctx, role: Role, spec: Option<SideSpec>) -> Result<ScenarioSide, ScenarioError> {
    let table = role_name(role);
    let spec = spec.unwrap_or_default();
    let mut c = Config::new(role);
    c.ident = match role {
        Role::Caller => CALLER_IDENT,
        Role::Answerer => ANSWERER_IDENT,
    }
    .into();
    let is_script = spec.kind == KindName::Script;
    let is_replay = spec.kind == KindName::Replay;
    if !is_script && spec.steps.is_some() {
        return Err(ctx.key(table, "steps", "steps are for kind = \"script\" sides only"));
    }
    if !is_replay && (spec.capture.is_some() || spec.capture_channel.is_some()) {
        return Err(ctx.key(
            table,
            "capture",
            "capture and capture_channel are for kind = \"replay\" sides only",
        ));
    }
    if (is_script || is_replay) && (!spec.send.is_empty() || !spec.pages.is_empty()) {
        return Err(ctx.key(
            table,
            if spec.send.is_empty() {
                "pages"
            } else {
                "send"
            },
            "a script or replay side sends no documents",
        ));
    }
    if role == Role::Caller && spec.voice.is_some() {
        return Err(ctx.key(table, "voice", "only the answerer answers as voice"));
    }
    if role == Role::Caller && spec.answer.is_some() {
        return Err(ctx.key(table, "answer", "only the answerer answers (or not)"));
    }
    if role == Role::Answerer && spec.poll.is_some() {
        return Err(ctx.key(table, "poll", "only the caller polls"));
    }
    // The document: files first, then generated pages.
    let expect = Expectation::from_spec(spec.expect.clone().unwrap_or_default());
    let expects_document_error = matches!(
        expect.error.as_deref(),
        Some(DOCUMENT_LOADING_ERROR) | Some(DOCUMENT_GENERATION_ERROR)
    );
    let mut pages = Vec::new();
    let mut document_problem = None;
    for f in &spec.send {
        let p = ctx.relative(f.get_ref());
        match load_document_coded(&p) {
            Ok(loaded) => pages.extend(loaded.pages().iter().cloned()),
            Err(e) if expects_document_error => {
                let problem = match &e {
                    t30::image::load::DocumentError::Loading { .. } => {
                        DocumentProblem::Loading(e.to_string())
                    }
                    t30::image::load::DocumentError::Generation { .. } => {
                        DocumentProblem::Generation(e.to_string())
                    }
                };
                document_problem.get_or_insert(problem);
            }
            Err(e) => return Err(ctx.at(f.span().start, e.to_string())),
        }
    }
    let mut corrupt_rows = Vec::new();
    for ps in &spec.pages {
        let count = ps.count.map_or(1, |c| c.0);
        let opts = TestPageOptions {
            resolution: image_resolution(ps.resolution.unwrap_or(ResolutionName::Standard)),
            ..TestPageOptions::default()
        };
        for i in 0..count {
            let page = make_test_page(ps.test.0, i, &opts).map_err(|e| {
                ctx.key(
                    table,
                    "pages",
                    format!("test page {}: {e}", ps.test.0.name()),
                )
            })?;
            if !page.corrupt_rows.is_empty()
                && matches!(
                    ps.test.0,
                    TestPageKind::BadRows49 | TestPageKind::BadRows151
                )
            {
                corrupt_rows.push((pages.len() as u32 + 1, page.corrupt_rows.clone()));
            }
            pages.push(CodedPage::from_bitmap(&page.bitmap));
        }
    }
    if let Some(v) = spec.receive {
        c.receive = v;
    }
    if let Some(v) = spec.poll {
        c.poll = v;
    }
    if let Some(v) = spec.turnaround {
        c.turnaround = match v {
            TurnaroundName::AwaitDis => Turnaround::AwaitDis,
            TurnaroundName::Immediate => Turnaround::Immediate,
        };
    }
    if let Some(v) = spec.allow_polled {
        c.allow_polled = v;
    }
    if let Some(v) = spec.ecm {
        c.ecm = v;
    }
    if let Some(v) = spec.ecm_frame_size {
        c.ecm_frame_size = v.0;
    }
    if let Some(v) = &spec.modems {
        if v.is_empty() {
            return Err(ctx.key(table, "modems", "at least one fast modem"));
        }
        c.modems = v
            .iter()
            .map(|m| match m {
                ModemName::V17 => Modem::V17,
                ModemName::V29 => Modem::V29,
                ModemName::V27ter => Modem::V27ter,
            })
            .collect();
    }
    if let Some(v) = spec.max_rate {
        c.max_rate = v.0;
    }
    if let Some(v) = &spec.codings {
        let mut codings: Vec<Coding> = v
            .iter()
            .map(|m| match m {
                CodingName::Mh => Coding::Mh,
                CodingName::Mr => Coding::Mr,
                CodingName::Mmr => Coding::Mmr,
            })
            .collect();
        // MH is mandatory in T.4: every station has it.
        if !codings.contains(&Coding::Mh) {
            codings.insert(0, Coding::Mh);
        }
        c.codings = codings;
    }
    if let Some(v) = &spec.resolutions {
        let mut r: Vec<Resolution> = v.iter().map(|r| resolution(*r)).collect();
        if !r.contains(&Resolution::Standard) {
            r.insert(0, Resolution::Standard);
        }
        c.resolutions = r;
    }
    if let Some(v) = spec.min_scan_ms {
        c.min_scan_ms = v.0;
    }
    if let Some(v) = spec.reduce_resolution {
        c.reduce_resolution = v;
    }
    if let Some(v) = &spec.ident {
        c.ident = v.0.clone();
    }
    if let Some(v) = &spec.header_info {
        c.header_info = v.clone();
    }
    if let Some(v) = &spec.nsf {
        c.nsf = Some(v.0.clone());
    }
    if let Some(m) = &spec.send_frames {
        c.send = m.iter().map(|(k, v)| (k.0, v.clone())).collect();
    }
    if let Some(m) = &spec.accept {
        c.accept = m.iter().map(|(k, v)| (k.0, v.0.clone())).collect();
    }
    if let Some(v) = spec.retries {
        c.retries = v.0;
    }
    if let Some(v) = spec.page_retries {
        c.page_retries = v.0;
    }
    if let Some(v) = spec.ppr_limit {
        c.ppr_limit = v.0;
    }
    if let Some(v) = spec.dis_repeat {
        c.dis_repeat = match v {
            DisRepeatName::UntilT1 => DisRepeat::UntilT1,
            DisRepeatName::ThenDcn => DisRepeat::ThenDcn,
        };
    }
    if let Some(v) = spec.send_cng {
        c.send_cng = v;
    }
    if let Some(v) = spec.ced_ms {
        c.ced_ms = v;
    }
    if let Some(v) = spec.report_unknown_frames {
        c.report_unknown_frames = v;
    }
    if let Some(t) = spec.timers {
        let set = |slot: &mut u64, v: Option<u64>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut c.timers.t0, t.t0_ms);
        set(&mut c.timers.t1, t.t1_ms);
        set(&mut c.timers.t2, t.t2_ms);
        set(&mut c.timers.t3, t.t3_ms);
        set(&mut c.timers.t4, t.t4_ms);
        set(&mut c.timers.t5, t.t5_ms);
        set(&mut c.timers.tcf_wait, t.tcf_wait_ms);
        set(&mut c.timers.max_control_carrier, t.max_control_carrier_ms);
        set(&mut c.timers.gap, t.gap_ms);
    }
    if let Some(o) = spec.operator {
        c.operator = Operator {
            interrupt_after_page: o.interrupt_after_page,
            answers_after_ms: o.answers_after_ms,
            accept: o.accept,
        };
    }
    let mut has_faults = !corrupt_rows.is_empty();
    c.faults.corrupt_rows = corrupt_rows;
    if let Some(f) = &spec.faults {
        if is_script || is_replay {
            return Err(ctx.key(table, "faults", "faults are for engine sides"));
        }
        has_faults = true;
        c.faults.frames = f
            .frames
            .iter()
            .map(|r| FrameRule {
                fcf: r.fcf.0,
                occurrence: r.occurrence,
                fault: frame_fault(&r.fault),
            })
            .collect();
        c.faults.tcf = f
            .tcf
            .iter()
            .map(|t| match t {
                TcfFaultSpec::Missing => TcfFault::Missing,
                TcfFaultSpec::WrongRate => TcfFault::WrongRate,
                TcfFaultSpec::Pattern(p) => TcfFault::Pattern(*p),
                TcfFaultSpec::ShortMs(ms) => TcfFault::Short(*ms),
            })
            .collect();
        c.faults
            .corrupt_rows
            .extend(f.corrupt_rows.iter().map(|r| (r.page, r.rows.clone())));
        c.faults.cut_page = f.cut_page.iter().map(|r| (r.page, r.percent.0)).collect();
        c.faults.corrupt_ecm_frames = f
            .corrupt_ecm_frames
            .iter()
            .map(|r| (r.page, r.frames.clone(), r.times))
            .collect();
        c.faults.force_response = f
            .force_response
            .iter()
            .map(|r| (r.fcf.0, r.times))
            .collect();
        c.faults.silence_after_rx = f.silence_after_rx.as_ref().map(|r| (r.fcf.0, r.occurrence));
        c.faults.hang_up_after_rx = f.hang_up_after_rx.as_ref().map(|r| (r.fcf.0, r.occurrence));
        c.faults.no_hang_up = f.no_hang_up;
    }
    let kind = match spec.kind {
        KindName::Builtin => SideKind::Builtin,
        KindName::Spandsp => SideKind::Spandsp,
        KindName::Script => SideKind::Script(spec.steps.clone().unwrap_or_default()),
        KindName::Replay => {
            let Some(f) = &spec.capture else {
                return Err(ctx.key(table, "kind", "a replay side needs capture = \"FILE.wav\""));
            };
            let p = ctx.relative(f.get_ref());
            if !p.is_file() {
                return Err(ctx.at(f.span().start, format!("{}: no such file", p.display())));
            }
            SideKind::Replay {
                path: p,
                channel: match spec.capture_channel.unwrap_or(RoleName::Caller) {
                    RoleName::Caller => 0,
                    RoleName::Answerer => 1,
                },
            }
        }
    };
    if role == Role::Caller
        && matches!(kind, SideKind::Builtin | SideKind::Spandsp)
        && pages.is_empty()
        && document_problem.is_none()
        && !c.poll
    {
        return Err(ctx.key(
            table,
            "send",
            "a caller needs documents (send or pages) or poll = true",
        ));
    }
    let number = spec
        .number
        .as_ref()
        .map(|n| n.0.clone())
        .unwrap_or_else(|| c.ident.split_whitespace().collect());
    Ok(ScenarioSide {
        kind,
        config: c,
        pages: Document::new(pages),
        document_problem,
        answers: spec.answer.unwrap_or(true),
        pdf_command: spec.pdf_command.clone(),
        number,
        voice: spec.voice,
        expect,
        has_faults,
    })
}

fn resolve(ctx: &Ctx, spec: ScenarioSpec, id: String) -> Result<Scenario, ScenarioError> {
    let (ab, ba) = match &spec.channel {
        None => (ChainSpec::default(), ChainSpec::default()),
        Some(ch) => {
            let shared = ch.shared();
            let ab = chain_dir(ctx, ch.caller_to_answerer.as_ref().unwrap_or(&shared))?;
            let ba = chain_dir(ctx, ch.answerer_to_caller.as_ref().unwrap_or(&shared))?;
            (ab, ba)
        }
    };
    let caller = side(ctx, Role::Caller, spec.caller)?;
    let answerer = side(ctx, Role::Answerer, spec.answerer)?;
    let repetitions = spec.repetitions.map_or(1, |r| r.0);
    if let Some(m) = spec.min_passing
        && (m == 0 || m > repetitions)
    {
        return Err(ctx.key(
            "",
            "min_passing",
            format!("must be 1..={repetitions} (the repetitions)"),
        ));
    }
    let mut requires = spec.requires.clone();
    for s in [&caller, &answerer] {
        if s.kind == SideKind::Spandsp {
            requires.push(Requirement::Spandsp);
        }
    }
    if uses_g729(&ab) || uses_g729(&ba) {
        requires.push(Requirement::Bcg729);
    }
    requires.sort();
    requires.dedup();
    let dut = match spec.dut {
        Some(RoleName::Caller) => Some(Role::Caller),
        Some(RoleName::Answerer) => Some(Role::Answerer),
        None => auto_dut(&caller, &answerer),
    };
    if let Some(d) = dut {
        let s = if d == Role::Caller {
            &caller
        } else {
            &answerer
        };
        if spec.dut.is_some() && (s.kind != SideKind::Builtin || s.has_faults) {
            return Err(ctx.key(
                "",
                "dut",
                "the device under test must be a builtin side without faults",
            ));
        }
    }
    Ok(Scenario {
        id,
        path: ctx.path.to_path_buf(),
        description: spec.description,
        tags: spec.tags,
        seed: spec.seed,
        repetitions,
        min_passing: spec.min_passing.unwrap_or(repetitions),
        transport: match spec.transport {
            TransportName::Audio => Transport::Audio,
            TransportName::T38 => Transport::T38,
        },
        limit: SampleTime::from_ms((spec.time_limit_s.0 * 1000.0).round() as u64),
        requires,
        answer_supervision: spec.answer_supervision,
        interrupt_at: spec
            .interrupt_at_s
            .map(|s| SampleTime::from_ms((s.0 * 1000.0).round() as u64)),
        dut,
        caller_to_answerer: ab,
        answerer_to_caller: ba,
        caller,
        answerer,
    })
}

/// The side `--peer spandsp` swaps: the builtin side opposite a script or replay, else the
/// one builtin side without faults, else the answerer when both qualify.
fn auto_dut(caller: &ScenarioSide, answerer: &ScenarioSide) -> Option<Role> {
    let eligible = |s: &ScenarioSide| {
        s.kind == SideKind::Builtin && !s.has_faults && s.document_problem.is_none() && s.answers
    };
    let caller_ok = eligible(caller) && spandsp_can_play(caller, answerer).is_ok();
    let answerer_ok = eligible(answerer) && spandsp_can_play(answerer, caller).is_ok();
    match (caller_ok, answerer_ok) {
        (true, true) => Some(Role::Answerer),
        (true, false) => Some(Role::Caller),
        (false, true) => Some(Role::Answerer),
        (false, false) => None,
    }
}

/// Whether spandsp can stand in for `side` (facing `other`): the spandsp endpoint takes the
/// role, identity, ECM, modems, codings and document, so any other setting would be silently
/// lost, and it either sends or receives.
pub fn spandsp_can_play(side: &ScenarioSide, other: &ScenarioSide) -> Result<(), String> {
    let c = &side.config;
    if !side.pages.is_empty() && !other.pages.is_empty() {
        return Err(format!(
            "the spandsp endpoint either sends or receives, and the {} would do both",
            role_name(c.role)
        ));
    }
    let mut plain = Config::new(c.role);
    plain.ident = c.ident.clone();
    plain.ecm = c.ecm;
    plain.modems = c.modems.clone();
    plain.codings = c.codings.clone();
    if *c == plain && side.pdf_command.is_none() {
        Ok(())
    } else {
        Err(format!(
            "the {} is configured beyond what the spandsp endpoint takes (identity, ECM, \
             modems, codings and document only)",
            role_name(c.role)
        ))
    }
}

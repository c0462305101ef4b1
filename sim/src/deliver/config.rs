//! The delivery configuration (TOML): the pipeline's spool and log, backends declared once, and
//! routes from dialled numbers to backends. Strict: an unknown key, a missing backend or an
//! unknown template field is a one-line error naming the file, the key and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::template::Template;

/// A configuration error: one line naming the file, the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The spool folder (new/, old/, tmp/, pdf/ inside).
    pub spool: PathBuf,
    /// The pipeline's step log (one line per step, with the per-call id).
    pub log: PathBuf,
    /// Receptions allowed at the same time; calls above it are refused.
    pub max_sessions: Option<u32>,
    /// Backends by name.
    pub backends: BTreeMap<String, Backend>,
    /// Routes in file order; the first that matches the destination number wins.
    pub routes: Vec<Route>,
    /// Backends for numbers no route matches.
    pub default: Vec<String>,
}

/// One route: destination numbers (exact or glob with `*` and `?`) to backends.
#[derive(Debug, Clone)]
pub struct Route {
    /// Number patterns.
    pub numbers: Vec<String>,
    /// Backend names, run in order.
    pub backends: Vec<String>,
}

/// One delivery action.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Mail through an SMTP server.
    Mail(MailBackend),
    /// Upload to an FTP server as `<source number>-<epoch>.pdf`.
    Ftp(FtpBackend),
    /// Print through CUPS with `lp -d QUEUE`.
    Printer(PrinterBackend),
    /// Append one line per received fax to a file.
    Log(LogBackend),
}

impl Backend {
    /// "mail", "ftp", "printer" or "log".
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Mail(_) => "mail",
            Backend::Ftp(_) => "ftp",
            Backend::Printer(_) => "printer",
            Backend::Log(_) => "log",
        }
    }
}

/// A mail backend.
#[derive(Debug, Clone)]
pub struct MailBackend {
    /// SMTP server host.
    pub host: String,
    /// SMTP server port.
    pub port: u16,
    /// Sender address.
    pub from: String,
    /// Recipient addresses.
    pub to: Vec<String>,
    /// Subject template.
    pub subject: Template,
    /// Plain-text body template (the HTML part is made from it).
    pub body: Template,
}

/// An FTP backend.
#[derive(Debug, Clone)]
pub struct FtpBackend {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Login password.
    pub password: String,
    /// Folder to change into before the upload ("" for the login folder).
    pub directory: String,
}

/// A printer backend.
#[derive(Debug, Clone)]
pub struct PrinterBackend {
    /// The CUPS queue.
    pub queue: String,
    /// Print the PDF (true) or the raw TIFF (false).
    pub pdf: bool,
    /// The `lp` command to run.
    pub command: String,
}

/// A log backend.
#[derive(Debug, Clone)]
pub struct LogBackend {
    /// The file lines are appended to.
    pub file: PathBuf,
    /// The line's template.
    pub line: Template,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    pipeline: Spanned<RawPipeline>,
    #[serde(default)]
    backends: BTreeMap<String, Spanned<RawBackend>>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    default: Option<RawDefault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    spool: String,
    log: String,
    max_sessions: Option<Spanned<u32>>,
}

// One flat table for every backend type (spans survive only outside serde's tagged enums);
// keys that do not belong to the declared type are rejected by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<Vec<String>>>,
    subject: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    directory: Option<Spanned<String>>,
    queue: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    command: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    line: Option<Spanned<String>>,
}

impl RawBackend {
    /// Every key given, with its name and where it starts.
    fn given(&self) -> Vec<(&'static str, usize)> {
        fn at<T>(v: &Option<Spanned<T>>) -> Option<usize> {
            v.as_ref().map(|s| s.span().start)
        }
        [
            ("host", at(&self.host)),
            ("port", at(&self.port)),
            ("from", at(&self.from)),
            ("to", at(&self.to)),
            ("subject", at(&self.subject)),
            ("body", at(&self.body)),
            ("user", at(&self.user)),
            ("password", at(&self.password)),
            ("directory", at(&self.directory)),
            ("queue", at(&self.queue)),
            ("format", at(&self.format)),
            ("command", at(&self.command)),
            ("file", at(&self.file)),
            ("line", at(&self.line)),
        ]
        .into_iter()
        .filter_map(|(k, a)| a.map(|a| (k, a)))
        .collect()
    }
}

fn value<T: Clone>(v: &Option<Spanned<T>>) -> Option<T> {
    v.as_ref().map(|s| s.get_ref().clone())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    numbers: Vec<String>,
    backends: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefault {
    backends: Vec<Spanned<String>>,
}

/// The default mail subject.
pub const DEFAULT_SUBJECT: &str = "Fax from {source} to {destination}: {pages} page(s), {status}";
/// The default mail body.
pub const DEFAULT_BODY: &str = "A fax for {destination} arrived from {source} ({remote_station}) at {time}: {pages} page(s), status {status}, \"{error}\".";
/// The default log line.
pub const DEFAULT_LOG_LINE: &str = "{time} call={call_id} from={source} to={destination} status={status} pages={pages} error=\"{error}\" file={file}";

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

impl Config {
    /// Reads and checks the file at `path`; relative paths in it are relative to its folder.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::from_str_at(&text, &path.display().to_string(), base)
    }

    /// Parses `text` (named `name` in errors), resolving relative paths against `base`.
    pub fn from_str_at(text: &str, name: &str, base: &Path) -> Result<Config, ConfigError> {
        let err_at =
            |at: usize, msg: String| ConfigError(format!("{name}:{}: {msg}", line_of(text, at)));
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(s) => err_at(s.start, msg),
                None => ConfigError(format!("{name}: {msg}")),
            }
        })?;
        let resolve = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { base.join(p) }
        };
        let template = |t: &Option<Spanned<String>>, default: &str, key: &str| {
            let (text_of, at) = match t {
                Some(s) => (s.get_ref().as_str(), s.span().start),
                None => (default, 0),
            };
            Template::parse(text_of).map_err(|m| err_at(at, format!("{key}: {m}")))
        };
        let mut backends = BTreeMap::new();
        for (bname, b) in &raw.backends {
            let b = b.get_ref();
            let kind = b.kind.get_ref().as_str();
            let allowed: &[&str] = match kind {
                "mail" => &["host", "port", "from", "to", "subject", "body"],
                "ftp" => &["host", "port", "user", "password", "directory"],
                "printer" => &["queue", "format", "command"],
                "log" => &["file", "line"],
                other => {
                    return Err(err_at(
                        b.kind.span().start,
                        format!(
                            "backends.{bname}.type: '{other}' is not mail, ftp, printer or log"
                        ),
                    ));
                }
            };
            if let Some((k, at)) = b.given().into_iter().find(|(k, _)| !allowed.contains(k)) {
                return Err(err_at(
                    at,
                    format!(
                        "backends.{bname}.{k}: not a key of a {kind} backend (keys: {})",
                        allowed.join(", ")
                    ),
                ));
            }
            let need = |v: Option<String>, key: &str| {
                v.ok_or_else(|| {
                    err_at(
                        b.kind.span().start,
                        format!("backends.{bname}: missing key '{key}'"),
                    )
                })
            };
            let backend = match kind {
                "mail" => {
                    let to = value(&b.to).unwrap_or_default();
                    if to.is_empty() {
                        return Err(err_at(
                            b.kind.span().start,
                            format!("backends.{bname}.to: no recipient"),
                        ));
                    }
                    Backend::Mail(MailBackend {
                        host: need(value(&b.host), "host")?,
                        port: value(&b.port).unwrap_or(25),
                        from: need(value(&b.from), "from")?,
                        to,
                        subject: template(
                            &b.subject,
                            DEFAULT_SUBJECT,
                            &format!("backends.{bname}.subject"),
                        )?,
                        body: template(&b.body, DEFAULT_BODY, &format!("backends.{bname}.body"))?,
                    })
                }
                "ftp" => Backend::Ftp(FtpBackend {
                    host: need(value(&b.host), "host")?,
                    port: value(&b.port).unwrap_or(21),
                    user: value(&b.user).unwrap_or_else(|| "anonymous".into()),
                    password: value(&b.password).unwrap_or_default(),
                    directory: value(&b.directory).unwrap_or_default(),
                }),
                "printer" => Backend::Printer(PrinterBackend {
                    queue: need(value(&b.queue), "queue")?,
                    pdf: match b
                        .format
                        .as_ref()
                        .map(|f| (f.get_ref().as_str(), f.span().start))
                    {
                        None | Some(("pdf", _)) => true,
                        Some(("tiff", _)) => false,
                        Some((other, at)) => {
                            return Err(err_at(
                                at,
                                format!("backends.{bname}.format: '{other}' is not pdf or tiff"),
                            ));
                        }
                    },
                    command: value(&b.command).unwrap_or_else(|| "lp".into()),
                }),
                _ => Backend::Log(LogBackend {
                    file: resolve(&need(value(&b.file), "file")?),
                    line: template(&b.line, DEFAULT_LOG_LINE, &format!("backends.{bname}.line"))?,
                }),
            };
            backends.insert(bname.clone(), backend);
        }
        let names = |list: &[Spanned<String>], key: &str| -> Result<Vec<String>, ConfigError> {
            list.iter()
                .map(|n| {
                    if backends.contains_key(n.get_ref()) {
                        Ok(n.get_ref().clone())
                    } else {
                        Err(err_at(
                            n.span().start,
                            format!("{key}: no backend named '{}'", n.get_ref()),
                        ))
                    }
                })
                .collect()
        };
        let mut routes = Vec::new();
        for r in &raw.routes {
            routes.push(Route {
                numbers: r.numbers.clone(),
                backends: names(&r.backends, "routes.backends")?,
            });
        }
        let default = match &raw.default {
            Some(d) => names(&d.backends, "default.backends")?,
            None => Vec::new(),
        };
        let pipeline = raw.pipeline.get_ref();
        if let Some(m) = &pipeline.max_sessions
            && *m.get_ref() == 0
        {
            return Err(err_at(
                m.span().start,
                "pipeline.max_sessions: must be at least 1".into(),
            ));
        }
        Ok(Config {
            spool: resolve(&pipeline.spool),
            log: resolve(&pipeline.log),
            max_sessions: pipeline.max_sessions.as_ref().map(|m| *m.get_ref()),
            backends,
            routes,
            default,
        })
    }

    /// The backends for a call to `destination`: the first matching route's, else the default.
    pub fn route(&self, destination: &str) -> &[String] {
        self.routes
            .iter()
            .find(|r| r.numbers.iter().any(|p| glob_match(p, destination)))
            .map(|r| r.backends.as_slice())
            .unwrap_or(&self.default)
    }
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` any one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point for the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[pipeline]
spool = "spool"
log = "pipeline.log"
max_sessions = 2

[backends.office]
type = "mail"
host = "127.0.0.1"
port = 25
from = "fax@example.net"
to = ["office@example.net"]
subject = "Fax to {destination}"

[backends.journal]
type = "log"
file = "faxes.log"

[[routes]]
numbers = ["+15550199", "+1555*"]
backends = ["office", "journal"]

[default]
backends = ["journal"]
"#;

    #[test]
    fn a_good_file_parses_and_routes() {
        let c = Config::from_str_at(GOOD, "d.toml", Path::new("/etc/fax")).unwrap();
        assert_eq!(c.spool, PathBuf::from("/etc/fax/spool"));
        assert_eq!(c.max_sessions, Some(2));
        assert_eq!(c.route("+15550199"), ["office", "journal"]);
        assert_eq!(c.route("+15551234"), ["office", "journal"]);
        assert_eq!(c.route("+4930123"), ["journal"]);
    }

    #[test]
    fn errors_are_one_line_with_file_key_and_line() {
        let bad = GOOD.replace("port = 25", "port = 25\ncolour = \"red\"");
        let e = Config::from_str_at(&bad, "d.toml", Path::new("."))
            .unwrap_err()
            .0;
        assert!(e.starts_with("d.toml:11: "), "{e}");
        assert!(e.contains("colour") && !e.contains('\n'), "{e}");

        let bad = GOOD.replace("[\"journal\"]\n", "[\"jornal\"]\n");
        let e = Config::from_str_at(&bad, "d.toml", Path::new("."))
            .unwrap_err()
            .0;
        assert_eq!(e, "d.toml:24: default.backends: no backend named 'jornal'");

        let bad = GOOD.replace("Fax to {destination}", "Fax to {dest}");
        let e = Config::from_str_at(&bad, "d.toml", Path::new("."))
            .unwrap_err()
            .0;
        assert!(
            e.starts_with("d.toml:13: backends.office.subject: unknown field {dest}"),
            "{e}"
        );
    }

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../../docs/deliver/example.toml");
        let c = Config::from_str_at(text, "example.toml", Path::new("docs")).unwrap();
        assert_eq!(c.backends.len(), 4);
        assert_eq!(
            c.route("+15550205"),
            ["sales_mail", "ftp_archive", "log_all"]
        );
        assert_eq!(c.route("+15550300"), ["printer_front", "log_all"]);
        assert_eq!(c.route("+15550400"), ["log_all"]);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", ""));
        assert!(glob_match("+1555*", "+15550199"));
        assert!(glob_match("+1555?199", "+15550199"));
        assert!(!glob_match("+1555?199", "+155501990"));
        assert!(glob_match("*99", "+15550199"));
        assert!(!glob_match("+49*", "+15550199"));
    }
}

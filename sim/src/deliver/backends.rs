//! The delivery actions themselves: SMTP mail, FTP upload, CUPS printing, a log line.

use std::io::Write;
use std::net::ToSocketAddrs;
use std::path::Path;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};

use super::config::{FtpBackend, LogBackend, MailBackend, PrinterBackend};

/// How long a network backend waits for its server before reporting a failure.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);

/// A mail ready to send: rendered subject and plain body, an HTML body, and one attachment.
pub struct MailContent {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub plain: String,
    /// The HTML body.
    pub html: String,
    /// The attachment's file name.
    pub attachment_name: String,
    /// The attachment's MIME type.
    pub attachment_type: &'static str,
    /// The attachment's bytes.
    pub attachment: Vec<u8>,
    /// The Date header, seconds since 1970.
    pub epoch: u64,
}

/// Sends `content` through the backend's SMTP server (no TLS: a relay on a trusted network).
pub fn send_mail(b: &MailBackend, content: MailContent) -> Result<String, String> {
    let mut builder = Message::builder()
        .from(
            b.from
                .parse()
                .map_err(|e| format!("from '{}': {e}", b.from))?,
        )
        .subject(content.subject)
        .date(std::time::UNIX_EPOCH + Duration::from_secs(content.epoch));
    for to in &b.to {
        builder = builder.to(to.parse().map_err(|e| format!("to '{to}': {e}"))?);
    }
    let kind = ContentType::parse(content.attachment_type).map_err(|e| e.to_string())?;
    let message = builder
        .multipart(
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(content.plain))
                        .singlepart(SinglePart::html(content.html)),
                )
                .singlepart(
                    Attachment::new(content.attachment_name).body(content.attachment, kind),
                ),
        )
        .map_err(|e| e.to_string())?;
    let transport = SmtpTransport::builder_dangerous(&b.host)
        .port(b.port)
        .timeout(Some(NETWORK_TIMEOUT))
        .build();
    transport
        .send(&message)
        .map(|r| format!("accepted by {}:{} ({})", b.host, b.port, r.code()))
        .map_err(|e| format!("{}:{}: {e}", b.host, b.port))
}

/// Uploads `file` as `name` to the backend's FTP server (binary, passive mode).
pub fn upload(b: &FtpBackend, file: &Path, name: &str) -> Result<String, String> {
    let at = format!("{}:{}", b.host, b.port);
    let addr = (b.host.as_str(), b.port)
        .to_socket_addrs()
        .map_err(|e| format!("{at}: {e}"))?
        .next()
        .ok_or_else(|| format!("{at}: no address"))?;
    let mut ftp = suppaftp::FtpStream::connect_timeout(addr, NETWORK_TIMEOUT)
        .map_err(|e| format!("{at}: {e}"))?;
    let _ = ftp.get_ref().set_read_timeout(Some(NETWORK_TIMEOUT));
    ftp.login(&b.user, &b.password)
        .map_err(|e| format!("{at}: login as {}: {e}", b.user))?;
    if !b.directory.is_empty() {
        ftp.cwd(&b.directory)
            .map_err(|e| format!("{at}: cd {}: {e}", b.directory))?;
    }
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .map_err(|e| format!("{at}: binary mode: {e}"))?;
    let mut reader = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let bytes = ftp
        .put_file(name, &mut reader)
        .map_err(|e| format!("{at}: put {name}: {e}"))?;
    let _ = ftp.quit();
    let dir = if b.directory.is_empty() {
        String::new()
    } else {
        format!("{}/", b.directory.trim_end_matches('/'))
    };
    Ok(format!("{bytes} bytes to ftp://{at}/{dir}{name}"))
}

/// Prints `file` with `lp -d QUEUE -t TITLE FILE`.
pub fn print(b: &PrinterBackend, file: &Path, title: &str) -> Result<String, String> {
    let out = std::process::Command::new(&b.command)
        .arg("-d")
        .arg(&b.queue)
        .arg("-t")
        .arg(title)
        .arg(file)
        .output()
        .map_err(|e| format!("{}: {e}", b.command))?;
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string()
        + String::from_utf8_lossy(&out.stderr).trim();
    if out.status.success() {
        Ok(format!("queue {}: {said}", b.queue))
    } else {
        Err(format!(
            "{} -d {} exited with {}: {said}",
            b.command, b.queue, out.status
        ))
    }
}

/// Appends `line` to the backend's file.
pub fn append_line(b: &LogBackend, line: &str) -> Result<String, String> {
    append(&b.file, line).map(|()| format!("appended to {}", b.file.display()))
}

/// Appends one line to `path`, creating the file and its folder. The line goes out in one
/// write: deliveries run in parallel, and `writeln!` on a file writes the text and its
/// newline apart, so two lines could interleave into one and an empty one.
pub fn append(path: &Path, line: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines appended from several threads at once come out whole, one per line.
    #[test]
    fn parallel_appends_keep_lines_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faxes.log");
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..500 {
                        append(path, &format!("thread {t} line {i} {}", "x".repeat(40))).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for line in lines {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 5, "{line:?}");
            assert_eq!((f[0], f[2], f[4].len()), ("thread", "line", 40), "{line:?}");
        }
    }
}

"""An aiosmtpd handler for the delivery tests: each message is parsed with Python's own MIME
reader and written out as DIR/<n>/ (subject.txt, rcpt.txt, plain.txt, html.txt, types.txt and
one attachment-<name> per attachment), so the tests compare with an independent reader."""

import email
import pathlib
from email import policy


class Sink:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        # aiosmtpd passes the command line's CLASSARGS here.
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        work = self.dir / f".{self.count}"
        work.mkdir(parents=True)
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        (work / "subject.txt").write_text(str(msg["subject"]))
        (work / "rcpt.txt").write_text(",".join(envelope.rcpt_tos))
        # Text parts travel with CRLF line ends; the tests compare with LF.
        for kind in ("plain", "html"):
            text = msg.get_body(preferencelist=(kind,)).get_content()
            (work / f"{kind}.txt").write_text(text.replace("\r\n", "\n"))
        (work / "types.txt").write_text(" ".join(p.get_content_type() for p in msg.walk()))
        for part in msg.iter_attachments():
            (work / ("attachment-" + part.get_filename())).write_bytes(
                part.get_payload(decode=True)
            )
        # Complete messages appear under their final name only.
        work.rename(self.dir / str(self.count))
        return "250 Message accepted for delivery"

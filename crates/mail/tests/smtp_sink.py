"""An SMTP server on loopback for Rollcall's tests (aiosmtpd): appends each message it accepts
to a JSON-lines file. Its mood is the third argument: `accept`, `refuse` (550 for every
recipient), `busy` (451) or `hang` (never answers the message's data).

    python3 smtp_sink.py PORT FILE MOOD
"""

import asyncio
import email
import json
import sys
from email.header import decode_header, make_header

from aiosmtpd.controller import Controller

port, out, mood = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if mood == "refuse":
            return "550 5.1.1 No such mailbox here"
        if mood == "busy":
            return "451 4.3.0 Busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if mood == "hang":
            await asyncio.sleep(3600)
        parsed = email.message_from_bytes(envelope.content)
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "subject": str(make_header(decode_header(parsed["Subject"]))),
                "body": parsed.get_payload(decode=True).decode("utf-8"),
                "data": envelope.content.decode("utf-8", "replace"),
            }) + "\n")
        return "250 Message accepted"


controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
try:
    sys.stdin.read()
finally:
    controller.stop()

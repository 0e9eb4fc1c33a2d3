#!/usr/bin/env python3
"""A real SMTP server on loopback that keeps what it receives: each accepted message is written
to a folder as an .eml file (its envelope recipients first, as X-Envelope-To) and, decoded, as a
.json file (to, subject, body), so the tests and a developer running `make run` can read the mail
capture sends.

    .run/python/bin/python deploy/mail-sink.py --port 2525 --dir .run/mail

It runs until it is stopped. With --refuse-first N it answers the first N messages with a
temporary failure (451), as a mail server that is struggling would.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import pathlib
import signal
import time
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: pathlib.Path, refuse_first: int):
        self.folder = folder
        self.refuse = refuse_first

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Temporary failure, try again later"
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        partial = self.folder / f"{name}.part"
        recipients = ", ".join(envelope.rcpt_tos)
        partial.write_bytes(
            f"X-Envelope-To: {recipients}\r\n".encode() + envelope.original_content
        )
        os.replace(partial, self.folder / f"{name}.eml")
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        decoded = {
            "to": envelope.rcpt_tos,
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "body": message.get_content(),
        }
        partial = self.folder / f"{name}.json.part"
        partial.write_text(json.dumps(decoded, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self.folder / f"{name}.json")
        return "250 2.0.0 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, type=pathlib.Path)
    parser.add_argument("--refuse-first", type=int, default=0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(
        Sink(args.dir, args.refuse_first),
        hostname=args.host,
        port=args.port,
        decode_data=False,
    )
    controller.start()
    print(f"mail sink listening on {args.host}:{args.port}, writing to {args.dir}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()

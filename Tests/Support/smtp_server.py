#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for happydesk's delivery tests and benchmark.

Prints "READY <port>" on stdout once it accepts connections, then serves until killed.
Each accepted message is parsed with Python's own `email` package (an implementation independent
of happydesk's) and appended as one JSON line to --log, so Swift tests can assert on what arrived.

  --port N              listen port (0 picks a free one)
  --log FILE            JSON lines of received messages (omit to only count, for benchmarks)
  --tls-cert/--tls-key  offer STARTTLS with this certificate
  --require-tls         refuse MAIL before STARTTLS
  --auth USER:PASS      require AUTH PLAIN/LOGIN with these credentials
  --reject SUBSTRING    answer 550 to recipients containing SUBSTRING
  --tempfail SUBSTRING  answer 451 to recipients containing SUBSTRING
  --delay SECONDS       wait this long before answering DATA (a slow server)
  --delay-ms MS         the same in milliseconds (--delay-ms 50: a relay taking 50 ms per message)
  --throttle-first N    answer 451 to MAIL FROM for the first N transactions (a throttling relay)
  --throttle-seconds T  answer 451 to MAIL FROM during the first T seconds after start
  --throttle-code CODE  the reply code for both throttle modes (default 451; 421 is answered the same way)
  --throttle-hint TEXT  appended to the throttle reply, e.g. "retry in 2 seconds"
  --save-dir DIR        also write each raw message to DIR/<pid>-<n>.eml (benchmark)
  --no-smtputf8         do not offer SMTPUTF8 (RFC 6531), which aiosmtpd offers by default
  --workers N           serve from N processes sharing the port (SO_REUSEPORT), like a real MTA's
                        worker pool, so the receiver is not the bottleneck of a concurrent sender
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

args = None
lock = threading.Lock()
connections = itertools.count(1)
received = itertools.count(1)
throttled = itertools.count(1)
started = time.time()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def describe(data: bytes):
    # An SMTPUTF8 message carries raw UTF-8 in its headers (RFC 6532); parsed from bytes, Python would keep them
    # as lone surrogates, which no JSON reader accepts.
    head = data.split(b"\r\n\r\n", 1)[0]
    if head.isascii():
        msg = email.message_from_bytes(data, policy=email.policy.default)
    else:
        msg = email.message_from_string(data.decode("utf-8", "replace"), policy=email.policy.default)
    parts = {}
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html") and ctype not in parts:
            parts[ctype] = part.get_content()
    return {
        "headers": [[k, str(v)] for k, v in msg.items()],
        "raw_headers": [[k, v] for k, v in msg.raw_items()],
        "subject": str(msg.get("Subject", "")),
        "message_id": str(msg.get("Message-ID", "")),
        "from": str(msg.get("From", "")),
        "to": str(msg.get("To", "")),
        "content_type": msg.get_content_type(),
        "defects": [type(d).__name__ for d in msg.defects],
        "text": parts.get("text/plain"),
        "html": parts.get("text/html"),
    }


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if not hasattr(session, "hd_connection"):
            session.hd_connection = next(connections)
        session.host_name = hostname
        if args.no_smtputf8:
            responses = [r for r in responses if "SMTPUTF8" not in r]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if args.throttle_first or args.throttle_seconds:
            within_time = args.throttle_seconds and time.time() - started < args.throttle_seconds
            within_count = args.throttle_first and next(throttled) <= args.throttle_first
            if within_time or within_count:
                reply = "%d 4.7.0 too many messages, slow down" % args.throttle_code
                if args.throttle_hint:
                    reply += "; " + args.throttle_hint
                return reply
        if args.no_smtputf8 and ("SMTPUTF8" in mail_options or not address.isascii()):
            return "553 5.6.7 this server does not offer SMTPUTF8"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.no_smtputf8 and not address.isascii():
            return "553 5.6.7 non-ASCII mailbox needs SMTPUTF8"
        if args.reject and args.reject in address:
            return "550 5.1.1 mailbox unavailable"
        if args.tempfail and args.tempfail in address:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if args.delay:
            await asyncio.sleep(args.delay)
        received_at = time.time()
        number = next(received)
        if args.save_dir:
            with open("%s/%d-%06d.eml" % (args.save_dir, os.getpid(), number), "wb") as f:
                f.write(envelope.original_content or envelope.content)
        if args.log:
            record = {
                "number": number,
                "received_at": received_at,
                "connection": getattr(session, "hd_connection", 0),
                "tls": session.ssl is not None,
                "auth": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "mail_options": envelope.mail_options,
                "raw": envelope.content.decode("utf-8", "replace"),
            }
            record.update(describe(envelope.content))
            with lock, open(args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        return "250 2.0.0 queued as %d" % number


class ReusePortController(Controller):
    """A Controller whose listening socket shares its port with sibling worker processes."""

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context, reuse_port=True)

    def _trigger_server(self):
        # The kernel may hand the start-up probe to a sibling's socket; probe until one reaches ours.
        for _ in range(200):
            try:
                super()._trigger_server()
            except Exception:
                pass
            if self._factory_invoked.wait(0.05):
                return


def become_worker():
    """Forks a worker that dies with its parent (PR_SET_PDEATHSIG), so killing the server stops them all."""
    if os.fork() != 0:
        return False
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    return True


def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword):
        user, password = args.auth.split(":", 1)
        if auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)


def main():
    global args
    # A parent that blocks SIGTERM (a Swift test runner may) passes the mask on; undo it so we can be stopped.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--reject")
    parser.add_argument("--tempfail")
    parser.add_argument("--delay", type=float, default=0)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--throttle-first", type=int, default=0)
    parser.add_argument("--throttle-seconds", type=float, default=0)
    parser.add_argument("--throttle-code", type=int, default=451)
    parser.add_argument("--throttle-hint")
    parser.add_argument("--save-dir")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-smtputf8", action="store_true")
    args = parser.parse_args()
    if args.delay_ms:
        args.delay = args.delay_ms / 1000

    port = args.port or free_port()
    worker = False
    for _ in range(max(0, args.workers - 1)):
        if become_worker():
            worker = True
            break
    kwargs = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = args.require_tls
    if args.auth:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(args.tls_cert)
    controller_class = ReusePortController if args.workers > 1 else Controller
    controller = controller_class(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost", data_size_limit=10_000_000, **kwargs)
    controller.start()
    if not worker:
        print("READY %d" % port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A real SMTP peer for tests: an aiosmtpd server that stores what it receives.

    python3 tests/peers/smtp_sink.py --port N --dir DIR
        [--fail-first K --fail-code 451] [--reject-code 550] [--reject-at data]
        [--auth user:pass [--auth-mechanisms LOGIN,PLAIN]]
        [--tls-cert C --tls-key K] [--delay SECS] [--stall] [--verbose]

Each accepted message n (1, 2, ...) is stored as DIR/<n>.json, then DIR/<n>.eml, each
written to a temporary name and renamed, so a reader that sees <n>.eml also sees a
complete <n>.json. The JSON holds:

    mail_from, rcpt_tos, peer ([host, port]), tls (STARTTLS done), auth
    ({"mechanism", "login"} or null), open_sessions (connections open when the
    message was accepted) and max_open_sessions (the most seen so far).

The .eml is the DATA content exactly as received (dot-unstuffed, ending in CRLF).

Failures, answered at --reject-at (mail, rcpt or data; default data, after the
content was received):
    --fail-first K   the first K transactions get --fail-code (default 451)
    --reject-code C  every transaction (after the first K) gets C
    --stall          never answer at --reject-at (the client must time out)
    --delay SECS     wait before answering DATA (to hold sessions open)

--port 0 picks a free port. Prints "READY <port>" on stdout once listening and exits
with status 0 on SIGTERM or SIGINT. Listens on 127.0.0.1 only.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # pragma: no cover - reported to the test harness
    print("smtp_sink: aiosmtpd is missing; run tests/setup-peers.sh", file=sys.stderr)
    sys.exit(3)

# aiosmtpd warns about plaintext AUTH and deprecated fields, and logs a traceback for
# every failed TLS handshake (which tests provoke); tests want a quiet peer.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

TEXTS = {
    "4": "4.3.0 Temporary failure, try again later",
    "5": "5.7.1 Message rejected",
}


class Stats:
    def __init__(self):
        self.open = 0
        self.max_open = 0
        self.transactions = 0
        self.stored = 0


class CountingSMTP(SMTP):
    """Counts open connections (STARTTLS calls connection_made a second time)."""

    def __init__(self, handler, stats, **kwargs):
        super().__init__(handler, **kwargs)
        self._stats = stats
        self._counted = False

    def connection_made(self, transport):
        if not self._counted:
            self._counted = True
            self._stats.open += 1
            self._stats.max_open = max(self._stats.max_open, self._stats.open)
        super().connection_made(transport)

    def connection_lost(self, error):
        if self._counted:
            self._counted = False
            self._stats.open -= 1
        super().connection_lost(error)


class Sink:
    def __init__(self, args, stats):
        self.args = args
        self.stats = stats
        self.dir = args.dir

    def _failure(self, stage):
        """The reply for this transaction at `stage`, or None to go on."""
        a = self.args
        if stage != a.reject_at:
            return None
        self.stats.transactions += 1
        n = self.stats.transactions
        if a.fail_first and n <= a.fail_first:
            return reply(a.fail_code)
        if a.reject_code:
            return reply(a.reject_code)
        return None

    async def _maybe_fail(self, stage):
        if self.args.stall and stage == self.args.reject_at:
            await asyncio.sleep(3600)
        return self._failure(stage)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        f = await self._maybe_fail("mail")
        if f:
            return f
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        f = await self._maybe_fail("rcpt")
        if f:
            return f
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay:
            await asyncio.sleep(self.args.delay)
        f = await self._maybe_fail("data")
        if f:
            return f
        self.stats.stored += 1
        n = self.stats.stored
        auth = None
        if session.authenticated and isinstance(session.auth_data, dict):
            auth = session.auth_data
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": list(session.peer) if session.peer else None,
            "tls": session.ssl is not None,
            "auth": auth,
            "open_sessions": self.stats.open,
            "max_open_sessions": self.stats.max_open,
        }
        write_atomic(os.path.join(self.dir, f"{n}.json"), json.dumps(meta).encode())
        write_atomic(os.path.join(self.dir, f"{n}.eml"), envelope.original_content)
        return f"250 2.0.0 Ok: queued as SINK{n}"


def reply(code):
    code = str(code)
    return f"{code} {TEXTS.get(code[:1], 'Failure')}"


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        if not ok:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data={"mechanism": mechanism, "login": user})

    return authenticator


def parse_args(argv):
    p = argparse.ArgumentParser(description="aiosmtpd sink for MMSC tests")
    p.add_argument("--port", type=int, required=True, help="0 picks a free port")
    p.add_argument("--dir", required=True, help="where messages are stored")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-code", type=int, default=451)
    p.add_argument("--reject-code", type=int, default=0)
    p.add_argument("--reject-at", choices=["mail", "rcpt", "data"], default="data")
    p.add_argument("--stall", action="store_true")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--auth", help="user:pass; AUTH is then required")
    p.add_argument("--auth-mechanisms", default="PLAIN,LOGIN",
                   help="mechanisms to offer (comma separated)")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--hostname", default="sink.test")
    p.add_argument("--verbose", action="store_true", help="aiosmtpd's log on stderr")
    a = p.parse_args(argv)
    if a.verbose:
        logging.basicConfig(level=logging.INFO)
        logging.getLogger("mail.log").setLevel(logging.INFO)
    for code, name in ((a.fail_code, "--fail-code"), (a.reject_code, "--reject-code")):
        if code and not 400 <= code <= 599:
            p.error(f"{name} must be a 4xx or 5xx code")
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if a.auth and ":" not in a.auth:
        p.error("--auth takes user:pass")
    return a


async def main(argv):
    args = parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    stats = Stats()
    handler = Sink(args, stats)
    kwargs = {"hostname": args.hostname, "data_size_limit": 64 * 1024 * 1024}
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = ctx
    if args.auth:
        user, password = args.auth.split(":", 1)
        offered = {m.strip().upper() for m in args.auth_mechanisms.split(",") if m.strip()}
        kwargs.update(
            authenticator=make_authenticator(user, password),
            auth_required=True,
            auth_require_tls=False,
            auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in offered],
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: CountingSMTP(handler, stats, loop=loop, **kwargs),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {port}", flush=True)
    await stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))

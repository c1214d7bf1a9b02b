#!/usr/bin/env python3
"""A store-and-forward SMTP relay for tests: the DMZ MTA of seed 000.

    python3 tests/peers/smtp_relay.py --port N --next 127.0.0.1:M [--source 127.0.0.5]

It answers 250 as soon as it has queued a message (as any MTA does: the 250
says nothing about the final recipient), then forwards the message unchanged
(envelope and content) to --next from --source, retrying every second for a
minute while the next hop is unreachable or answers 4xx. Prints "READY <port>"
once listening; exits 0 on SIGTERM/SIGINT. (Postfix's daemon does not run in
this test environment, so an aiosmtpd relay stands in for the DMZ MTA.)
"""
import argparse
import logging
import queue
import signal
import smtplib
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Relay:
    def __init__(self, q):
        self.q = q

    async def handle_DATA(self, server, session, envelope):
        self.q.put((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued for relay"


def forward(q, host, port, source):
    while True:
        mail_from, rcpts, data = q.get()
        for _ in range(60):
            try:
                s = smtplib.SMTP(host, port, timeout=30, source_address=(source, 0))
                s.ehlo("dmz-relay.test")
                s.sendmail(mail_from, rcpts, data)
                s.quit()
                break
            except smtplib.SMTPResponseException as e:
                if 500 <= e.smtp_code < 600:
                    print(f"relay: {e.smtp_code} from next hop; dropped", file=sys.stderr, flush=True)
                    break
                time.sleep(1)
            except (OSError, smtplib.SMTPException):
                time.sleep(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--next", required=True)
    ap.add_argument("--source", default="127.0.0.1")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    host, port = args.next.rsplit(":", 1)
    q = queue.Queue()
    threading.Thread(target=forward, args=(q, host, int(port), args.source), daemon=True).start()
    ctl = Controller(Relay(q), hostname="127.0.0.1", port=args.port)
    ctl.start()
    print(f"READY {args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    ctl.stop()


if __name__ == "__main__":
    main()

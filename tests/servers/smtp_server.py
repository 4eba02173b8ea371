#!/usr/bin/python3
"""A real SMTP server for tests (Debian's python3-aiosmtpd), on 127.0.0.1 only.

    smtp_server.py DIR [--port N] [--auth USER:PASSWORD]
                       [--starttls CERT KEY | --smtps CERT KEY]

Listens on 127.0.0.1 (a free port unless --port), prints the port on the first
line of stdout, then stores every message it accepts as DIR/NNNN.eml (the bytes
received after DATA) with DIR/NNNN.json beside it (envelope sender, recipients,
the AUTH login used if any, whether the session was encrypted). Files appear
atomically (written, then renamed). No STARTTLS is offered unless --starttls
(then it is required before MAIL); --smtps speaks TLS from the first byte. With --auth, AUTH PLAIN/LOGIN is accepted over plain text
for that user and password only (auth_require_tls off: test use only).
Stops on SIGTERM or SIGINT.
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

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    def __init__(self, directory, implicit_tls=False):
        self.directory = directory
        self.implicit_tls = implicit_tls
        self.count = len([f for f in os.listdir(directory) if f.endswith(".eml")])

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_login": session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword) else None,
            "tls": self.implicit_tls or session.ssl is not None,
        }
        for suffix, data in ((".json", json.dumps(meta).encode()),
                             (".eml", envelope.original_content or envelope.content)):
            with open(base + suffix + ".tmp", "wb") as f:
                f.write(data)
            os.rename(base + suffix + ".tmp", base + suffix)
        return "250 Message accepted for delivery"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return authenticate


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("directory")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--auth")
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    # plain-text AUTH is what --auth asks for; aiosmtpd's warnings about it are noise here
    warnings.filterwarnings("ignore", module="aiosmtpd")
    # failed handshakes (tests of refused certificates) are expected, not news
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    os.makedirs(args.directory, exist_ok=True)
    store = Store(args.directory, implicit_tls=bool(args.smtps))
    kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs = dict(authenticator=make_authenticator(user, password),
                      auth_require_tls=False, auth_required=True)
    implicit = None
    if args.starttls or args.smtps:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*(args.starttls or args.smtps))
        if args.starttls:
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            implicit = ctx
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(store, enable_SMTPUTF8=True, **kwargs),
                                      "127.0.0.1", args.port, ssl=implicit)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

#!/usr/bin/env python3
"""Run a moto server on 127.0.0.1:PORT until standard input closes (the parent exited), so a test
run never leaves a server behind. Prints "ready" once it accepts requests.

Usage: moto_guard.py PORT
"""
import sys

import logging

from moto.server import ThreadedMotoServer


def main():
    port = int(sys.argv[1])
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()

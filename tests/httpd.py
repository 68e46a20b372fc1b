#!/usr/bin/env python3
"""Static HTTP server for the tests, on 127.0.0.1 only.

Serves --dir on an ephemeral port and writes the port to --port-file, answering
"Range: bytes=N-" requests with the rest of the file (206). When --delay-file
exists, each request first sleeps for the number of seconds it contains, so a test can make
a pull slow on purpose (cancel, disconnect and busy tests).
"""
import argparse
import functools
import http.server
import os
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    delay_file = None

    def log_message(self, fmt, *args):
        sys.stderr.write("httpd: " + (fmt % args) + "\n")

    def _maybe_delay(self):
        if self.delay_file and os.path.exists(self.delay_file):
            try:
                with open(self.delay_file) as f:
                    time.sleep(float(f.read().strip() or "0"))
            except (OSError, ValueError):
                pass

    def do_GET(self):
        self._maybe_delay()
        if not self._send_range():
            super().do_GET()

    def _send_range(self):
        """Answers "Range: bytes=N-" for a file with 206 and the rest of it (resumed
        downloads), or 416 when N is past its end; anything else is left to the plain
        handler."""
        value = self.headers.get("Range", "")
        if not value.startswith("bytes=") or not value.endswith("-"):
            return False
        path = self.translate_path(self.path)
        try:
            start = int(value[len("bytes="):-1])
            size = os.path.getsize(path)
        except (ValueError, OSError):
            return False
        if not os.path.isfile(path):
            return False
        if start >= size:
            # As real servers answer a range past the end (RFC 9110 15.5.17).
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            sys.stderr.write("httpd: range bytes=%d- of %s: past the end (%d bytes)\n"
                             % (start, os.path.basename(path), size))
            return True
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read()
        self.send_response(206)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        sys.stderr.write("httpd: range bytes=%d- of %s: sent %d bytes\n"
                         % (start, os.path.basename(path), len(body)))
        return True

    def do_HEAD(self):
        self._maybe_delay()
        super().do_HEAD()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--delay-file")
    args = ap.parse_args()
    Handler.delay_file = args.delay_file
    handler = functools.partial(Handler, directory=args.dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

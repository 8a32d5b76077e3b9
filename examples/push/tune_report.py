"""Report a trial's metrics to tune (Katib's Push collector), standard library only.

    from tune_report import report
    report(accuracy=0.91, loss=0.27, step=3)

tune sets TUNE_REPORT_URL and TUNE_REPORT_TOKEN for trials of an experiment
whose metricsCollectorSpec.collector.kind is Push. The URL is unix:/path (a
Unix socket, tune's default) or http://HOST:PORT (tune run --push-address).
A refused report (an undeclared metric, a NaN) raises RuntimeError with
tune's explanation.
"""
import http.client
import json
import math
import os
import socket
import urllib.parse

TIMEOUT = 30  # seconds


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix domain socket."""

    def __init__(self, path, timeout):
        super().__init__("unix", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _connect(url):
    """Return a connection to tune's endpoint and the path of reports."""
    if url.startswith("unix:"):
        return _UnixConnection(url[len("unix:"):], TIMEOUT), "/v1/report"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.netloc:
        raise RuntimeError("TUNE_REPORT_URL %r: want unix:/path or http://HOST:PORT" % url)
    return http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT), parts.path.rstrip("/") + "/v1/report"


def report(step=None, **metrics):
    """Send metrics (name=value) for one step; step=None means unknown."""
    url, token = os.environ.get("TUNE_REPORT_URL"), os.environ.get("TUNE_REPORT_TOKEN")
    if not url or not token:
        raise RuntimeError("TUNE_REPORT_URL and TUNE_REPORT_TOKEN are not set: run inside a tune trial with the Push collector")
    items = []
    for name, value in metrics.items():
        value = float(value)
        # JSON has no NaN or Infinity: send them as text for tune to refuse.
        item = {"name": name, "value": value if math.isfinite(value) else str(value)}
        if step is not None:
            item["step"] = int(step)
        items.append(item)
    conn, path = _connect(url)
    try:
        conn.request(
            "POST",
            path,
            body=json.dumps({"metrics": items}).encode(),
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status // 100 != 2:
        raise RuntimeError("tune refused the report: " + body.decode(errors="replace").strip())

"""Report a trial's metrics to tune (Katib's Push collector), standard library only.

    from tune_report import report
    report(accuracy=0.91, loss=0.27, step=3)

tune sets TUNE_REPORT_URL and TUNE_REPORT_TOKEN for trials of an experiment
whose metricsCollectorSpec.collector.kind is Push. A refused report (an
undeclared metric, a NaN) raises RuntimeError with tune's explanation.
"""
import json
import math
import os
import urllib.error
import urllib.request


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
    req = urllib.request.Request(
        url.rstrip("/") + "/v1/report",
        data=json.dumps({"metrics": items}).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30):
            pass
    except urllib.error.HTTPError as e:
        raise RuntimeError("tune refused the report: " + e.read().decode(errors="replace").strip()) from None

"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py` (used by `make serve`
and deploy/systemd/vault.service). Environment variables tune it without editing it:
PORT or GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_TIMEOUT, PROMETHEUS_MULTIPROC_DIR.

Graceful reload: `systemctl reload vault` (SIGHUP) re-reads this file and replaces the
workers one by one after they finish their requests; the app is not preloaded, so new
workers also load new code and settings.
"""

import os
import shutil
import tempfile
from pathlib import Path

wsgi_app = "wsgi:app"

# Behind nginx on the same host: listen on loopback only.
bind = [os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]

# Sync workers, (2 x cores) + 1: requests are CPU-bound (crypto, PDF parsing) or short
# database calls. The cores this process may run on (systemd or a container may cap them).
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = int(os.environ.get("GUNICORN_WORKERS") or 2 * (_cores or 1) + 1)
# A worker silent this long is killed and replaced (a stuck upload parse, a hung database).
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# Time given to workers to finish their requests on reload or stop.
graceful_timeout = 30
# nginx keeps upstream connections open; a little longer than its own idle time.
keepalive = 5
# Replace each worker after this many requests (with jitter, not all at once): bounds
# what any slow leak can grow to.
max_requests = 2000
max_requests_jitter = 200
preload_app = False

# Forwarded headers are interpreted by the app alone (ProxyFix, trusting exactly
# VAULT_PROXY_HOPS proxies): gunicorn must not decide the scheme from them as well.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = "127.0.0.1"

# Logs: JSON lines on stdout/stderr (the journal), through the app's redaction. The
# access line is written by JsonLogger from the route template the app recorded; this
# format (used only if another logger class is configured) has no path nor query atom.
accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = "vault.gunicorn_logging.JsonLogger"
access_log_format = '%(m)s %(s)s %(B)s %(M)sms %({x-request-id}o)s'
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
# Managed by signals (systemd's stop and reload); no control socket in the home directory.
control_socket_disable = True
# The app leaves the one line per request to this access log (see REQUEST_LOG).
os.environ.setdefault("VAULT_REQUEST_LOG", "server")

# Prometheus multiprocess mode: each worker writes its counters to files here and any
# worker's /metrics adds them up. Must be set before the app imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="vault-metrics-")


def on_starting(server):
    # Counters of a previous run are not this run's: start from an empty directory.
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if metrics_dir.exists():
        shutil.rmtree(metrics_dir)
    metrics_dir.mkdir(mode=0o700, parents=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

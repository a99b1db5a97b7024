"""gunicorn's settings for Duban (docs/deployment.md, "The production server").

The systemd unit (deploy/systemd/duban-web.service) and `scripts/production` both start
`gunicorn --config deploy/gunicorn.conf.py`; options given after it on the command line win
(the script binds a free loopback port and runs fewer workers).
"""

import multiprocessing

wsgi_app = "duban.wsgi:application"
# nginx in front, on the same machine (deploy/nginx/duban.conf proxies here).
bind = ["127.0.0.1:8000"]
# 2 x cores + 1 processes of 4 threads: the processes give the Python work the cores, the
# threads hold idle and keep-alive connections without tying up a process.
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = 4
# Longer than a client pausing about 2 s between pages (gunicorn's own default races it).
keepalive = 5
# Long work runs in `duban worker`: a request still running after 60 s is stuck.
timeout = 60
graceful_timeout = 30
# Recycle each worker after a few thousand requests: caps any slow growth of memory.
max_requests = 5000
max_requests_jitter = 500
# nginx logs every request (with its X-Request-ID); gunicorn's own lines and Duban's
# key=value lines go to stderr: the journal, or the file the unit appends it to.
accesslog = None
errorlog = "-"
# Only nginx on this machine may say the original scheme was https (X-Forwarded-Proto).
forwarded_allow_ips = "127.0.0.1,::1"

"""Debian's nginx in front of test workers, as an unprivileged process on a free port, with the
sample site of `deploy/nginx/lotsa.conf` (its upstream ports and listen address replaced)."""
from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from lotsa_testing.clients import free_port, wait_healthy

SAMPLE_SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "lotsa.conf"
PROXY_ADDRESS = "127.0.0.2"
"""nginx connects to the workers from this address (loopback too), so a test can trust the proxy
without trusting its clients on 127.0.0.1."""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def site_for(upstreams: list[str], port: int, folder: Path) -> str:
    """The sample site with these upstream `host:port`s, listening on 127.0.0.1:`port`."""
    site = SAMPLE_SITE.read_text()
    sample_servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+[^;]*;\n", site, flags=re.M)
    assert sample_servers, "the sample site lists its workers as `server 127.0.0.1:PORT …;`"
    ours = "".join(f"    server {u} max_fails=1 fail_timeout=5s;\n" for u in upstreams)
    site = site.replace("".join(sample_servers), ours)
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    site = re.sub(r"error_log \S+ crit;", f"error_log {folder}/site-error.log warn;", site)
    return site.replace("proxy_pass http://lotsa_workers;",
                        f"proxy_pass http://lotsa_workers;\n        proxy_bind {PROXY_ADDRESS};")


def main_config(folder: Path) -> str:
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off;\nmaster_process off;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\n    include {folder}/site.conf;\n}}\n")


@asynccontextmanager
async def nginx_in_front(upstreams: list[str], folder: Path, port: int | None = None) -> AsyncIterator[str]:
    """nginx running the sample site in front of `upstreams` (on `port`, or a free one): its base URL."""
    binary = nginx_binary()
    assert binary is not None
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    (folder / "site.conf").write_text(site_for(upstreams, port, folder))
    (folder / "nginx.conf").write_text(main_config(folder))
    check = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        assert await wait_healthy(url, 20), "nginx did not start"
        yield url
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 10)

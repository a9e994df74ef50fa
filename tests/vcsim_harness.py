"""Build govmomi's vCenter simulator (vcsim) from Debian packages once, start and stop it on loopback."""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAIN = Path(__file__).resolve().parent / "vcsim" / "main.go"
CACHE = ROOT / ".cache" / "vcsim"
GOCODE = Path("/usr/share/gocode")
GO_CANDIDATES = ("/usr/lib/go-1.19/bin/go", "/usr/lib/go/bin/go")
APT = "apt-get install -y golang-1.19-go golang-github-vmware-govmomi-dev golang-github-google-uuid-dev"
USER, PASSWORD = "user", "pass"  # vcsim's built-in default login


def _missing(reason: str):
    message = f"vcsim unavailable: {reason}; install the Debian packages: {APT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def go_binary() -> str | None:
    for candidate in GO_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("go")


def vcsim_binary() -> Path:
    """Path of the vcsim binary, built from tests/vcsim/main.go on first use (cached by source hash)."""
    go = go_binary()
    if go is None:
        _missing("no Go toolchain")
    if not (GOCODE / "src/github.com/vmware/govmomi/simulator").is_dir():
        _missing("govmomi sources not in /usr/share/gocode")
    digest = hashlib.sha256(MAIN.read_bytes()).hexdigest()[:12]
    binary = CACHE / f"vcsim-{digest}"
    if binary.is_file():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=f"{CACHE / 'gopath'}:{GOCODE}",
               GOCACHE=str(CACHE / "gocache"), GOFLAGS="")
    tmp = binary.with_suffix(".tmp")
    done = subprocess.run([go, "build", "-o", str(tmp), str(MAIN)], env=env, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"building vcsim failed:\n{done.stderr[-3000:]}")
    tmp.rename(binary)
    return binary


@dataclass
class Vcsim:
    """A running simulator: where it listens and how to trust it."""

    process: subprocess.Popen
    host: str
    port: int

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def certificate_pem(self) -> str:
        return ssl.get_server_certificate((self.host, self.port))

    def thumbprint(self) -> str:
        der = ssl.PEM_cert_to_DER_cert(self.certificate_pem())
        return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_certificate() -> tuple[Path, Path]:
    """A self-signed RSA-2048 CA certificate for 127.0.0.1 (vcsim's built-in one is RSA-1024,
    which OpenSSL's default security level rightly refuses)."""
    cert, key = CACHE / "server.pem", CACHE / "server.key"
    if not cert.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-subj", "/O=assess tests/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    return cert, key


def start_vcsim(vms: int = 2, hosts: int = 3, clusters: int = 1) -> Vcsim:
    """Start vcsim on 127.0.0.1 with a free port; ``vms`` per resource pool, ``hosts`` per cluster."""
    binary = vcsim_binary()
    cert, key = server_certificate()
    process = subprocess.Popen(
        [str(binary), "-l", "127.0.0.1:0", "-vm", str(vms), "-host", str(hosts), "-cluster", str(clusters),
         "-cert", str(cert), "-key", str(key)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = process.stdout.readline().strip()
    if not line:
        process.kill()
        pytest.fail(f"vcsim exited without printing its URL (exit {process.wait()})")
    url = urlparse(line)
    return Vcsim(process, url.hostname, url.port)

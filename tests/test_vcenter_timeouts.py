"""A vCenter that accepts the connection and never answers ends the collect with one line (issue 17).

The silent servers listen on loopback only: one completes the TLS handshake and then reads
forever, the other accepts TCP and never starts TLS.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from soap_double import SoapDouble
from vcsim_harness import server_certificate

from assess.collect.vcenter import Target, collect_vcenter
from assess.config import load_config
from assess.model import AssessError

ROOT = Path(__file__).resolve().parent.parent


class SilentServer:
    """Accept on 127.0.0.1; with ``tls``, complete the handshake; then never answer."""

    def __init__(self, cert: tuple[Path, Path] | None):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.context = None
        if cert:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(str(cert[0]), str(cert[1]))
        self.held: list[socket.socket] = []
        self.handshakes = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.context:
                try:
                    conn = self.context.wrap_socket(conn, server_side=True)
                    self.handshakes += 1
                except (OSError, ssl.SSLError):
                    continue
            self.held.append(conn)  # read nothing, answer nothing

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def cert():
    return server_certificate()


def _target(port: int, cert, **timeouts) -> Target:
    return Target("127.0.0.1", "reader", "pw", port=port, ca_file=cert[0], **timeouts)


def test_a_server_that_accepts_tls_and_never_answers_times_out(cert):
    server = SilentServer(cert)
    try:
        start = time.monotonic()
        with pytest.raises(AssessError, match=rf"vCenter 127.0.0.1:{server.port} did not answer in time "
                                              r"\(connect timeout 5 s, read timeout 1 s\)"):
            collect_vcenter(_target(server.port, cert, connect_timeout_s=5, read_timeout_s=1))
        assert time.monotonic() - start < 4
        assert server.handshakes == 1  # the TLS session was up: it is the read that timed out
    finally:
        server.close()


def test_a_server_that_never_starts_tls_hits_the_connect_timeout(cert):
    server = SilentServer(None)
    try:
        start = time.monotonic()
        with pytest.raises(AssessError, match="did not answer in time"):
            collect_vcenter(_target(server.port, cert, connect_timeout_s=1, read_timeout_s=60))
        assert time.monotonic() - start < 4
    finally:
        server.close()


def test_cli_timeout_flags_give_one_line_naming_the_server(cert, tmp_path):
    server = SilentServer(cert)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "assess", "collect", "vcenter", "--server", f"127.0.0.1:{server.port}",
             "--user", "reader", "--ca-file", str(cert[0]), "--connect-timeout", "5", "--read-timeout", "1",
             "--out", str(tmp_path / "estate")],
            env=dict(os.environ, VSPHERE_PASSWORD="pw"), capture_output=True, text=True, cwd=ROOT, timeout=60)
    finally:
        server.close()
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: vCenter 127.0.0.1:{server.port} did not answer in time (connect timeout 5 s, read timeout "
        "1 s): check that it is up and reachable, or raise --connect-timeout/--read-timeout "
        "(connect_timeout_s/read_timeout_s in the config)"]


def test_config_timeouts_are_validated(tmp_path):
    path = tmp_path / "assessment.yaml"
    path.write_text("sources:\n  vcenters:\n    - {server: vc, user: u, read_timeout_s: 0}\n")
    with pytest.raises(AssessError, match="read_timeout_s: Input should be greater than 0"):
        load_config(path)
    path.write_text("sources:\n  vcenters:\n    - {server: vc, user: u, connect_timeout_s: 3}\n")
    vc = load_config(path).sources.vcenters[0]
    assert (vc.connect_timeout_s, vc.read_timeout_s) == (3, 300)


def test_insecure_leaves_a_trace_in_the_log_the_warnings_and_the_provenance(cert, caplog):
    with SoapDouble(str(cert[0]), str(cert[1]), vms=2, password="pw") as double:
        target = Target("127.0.0.1", "reader", "pw", port=double.port, insecure=True)
        with caplog.at_level(logging.WARNING):
            estate = collect_vcenter(target, utilization=False)
    notice = f"TLS verification is off for vCenter 127.0.0.1:{double.port} (insecure)"
    assert any(notice in record.getMessage() for record in caplog.records)
    warned = estate.warnings[estate.warnings["code"] == "vcenter.tls.insecure"]
    assert len(warned) == 1 and notice in warned["message"].iat[0]
    assert estate.provenance[0]["tls"] == "not verified (insecure)"

import pytest

from tests.execute.live import Live, start_seeded
from tests.execute.live_controllers import LiveControllers


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    """etcd + kube-apiserver for the session, with the real CRDs installed (see tests/kube_harness.py)."""
    plane = start_seeded(tmp_path_factory.mktemp("kube"))
    yield plane
    plane.stop()


@pytest.fixture
def live(kube, tmp_path):
    """Fresh namespaces on the real server, and the Forklift/CDI/KubeVirt controllers playing."""
    env = Live(kube, tmp_path)
    with LiveControllers(env.kubeconfig, env.mtv_ns, env.vms_ns) as controllers:
        env.controllers = controllers
        yield env


_LIVE = {"passed": 0, "failed": 0, "plane": None}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Count the tests that ran against the real control plane (those using the ``kube`` fixture)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and "kube" in getattr(item, "fixturenames", ()):
        _LIVE["passed" if report.passed else "failed"] += 1
        _LIVE["plane"] = item.funcargs.get("kube") or _LIVE["plane"]


def pytest_terminal_summary(terminalreporter):
    plane = _LIVE["plane"]
    if plane is None:
        return
    terminalreporter.write_line(
        f"real control plane: {_LIVE['passed'] + _LIVE['failed']} tests ran against kube-apiserver "
        f"{plane.version} + etcd ({_LIVE['failed']} failed); binaries built on this machine in "
        f"{plane.build_seconds} s (Go cache {plane.build_go_cache or 'unknown'}), control plane up in "
        f"{plane.ready_seconds} s this session"
    )

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
    with LiveControllers(env.kubeconfig) as controllers:
        env.controllers = controllers
        yield env

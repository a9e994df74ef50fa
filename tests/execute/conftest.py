import pytest

from tests.execute.k8s_double import Controllers, Double
from tests.execute.k8s_double.seed import seed_cluster, write_run


class Env:
    def __init__(self, double, controllers, tmp_path):
        self.double, self.controllers, self.tmp = double, controllers, tmp_path
        self.kubeconfig = double.kubeconfig(tmp_path / "kubeconfig")
        self.run = write_run(tmp_path / "run")

    def params(self, **kw):
        from assess.execute.params import ExecuteParams

        return ExecuteParams(kubeconfig=str(self.kubeconfig), backoff_s=0.01, **kw)

    def add_secret(self, namespace):
        secret = {"metadata": {"name": "vsphere-credentials"}, "type": "Opaque", "data": {"user": "YQ=="}}
        self.double.store.create(self.double.by_kind("Secret"), namespace, secret)

    def created(self, kind):
        return self.double.store.created.get(kind, 0)


@pytest.fixture
def k8s(tmp_path):
    with Double() as double, Controllers(double) as controllers:
        seed_cluster(double)
        yield Env(double, controllers, tmp_path)

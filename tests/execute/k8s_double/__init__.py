"""A Kubernetes API double on loopback that plays Forklift, KubeVirt and CDI (see server.py)."""

from tests.execute.k8s_double.controllers import Controllers
from tests.execute.k8s_double.server import Double, Fault

__all__ = ["Controllers", "Double", "Fault"]

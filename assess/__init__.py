"""assess: VMware to KubeVirt migration assessment and planning."""

__version__ = "0.1.0"

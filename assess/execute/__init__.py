"""Executor: waves become Forklift or KubeVirt resources, applied, watched, gated, resumable."""

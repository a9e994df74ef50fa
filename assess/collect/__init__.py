"""Collectors: RVTools, vCenter, utilization and flow files into the canonical estate."""

"""assess: VMware to KubeVirt migration assessment and planning.

The public API (what notebooks and scripts import; everything else may change)::

    from assess import load_estate, run_stages, Run, sample_path
    estate = load_estate(sample_path())
    results = run_stages(estate)
    Run(estate, results).save("reports/notebook")

Names are imported on first use, so ``import assess`` stays cheap for the command line.
"""

__version__ = "0.1.0"

_API = {
    "Estate": "assess.model",
    "AssessError": "assess.model",
    "StageResult": "assess.model.results",
    "Run": "assess.run",
    "load_estate": "assess.sources",
    "load_configured_estate": "assess.sources",
    "run_stages": "assess.stages",
    "assess_readiness": "assess.readiness",
    "size_estate": "assess.sizing",
    "plan_waves": "assess.waves",
    "sample_path": "assess.sample",
    "generate_sample": "assess.sample",
    "ReadinessParams": "assess.readiness",
    "SizingParams": "assess.sizing",
    "NodeProfile": "assess.sizing",
    "WavesParams": "assess.waves",
    "ExecuteParams": "assess.execute.params",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'assess' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Run history: the embedded store of past runs and what changed between them."""

"""vecmix's benchmarks: ``python -m benchmarks.run`` (``--quick`` for a smoke test); results in RESULTS.md."""

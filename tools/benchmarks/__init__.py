"""Building blocks of ``tools/benchmark.py`` (timing, workloads, sections,
report)."""

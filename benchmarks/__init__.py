"""geoplan benchmarks: a synthetic city generator and the coverage benchmark.

Run from the repository root: ``python -m benchmarks.bench_coverage --size 100k``.
See ``benchmarks/README.md``.
"""

"""The files here are programs that tests/test_distributed.py runs under ``mpiexec``; pytest does
not collect them itself (importing one outside mpiexec would test nothing)."""

collect_ignore_glob = ["*.py"]

# PyTorch programs the run-command tests start in a subprocess under `backprop run`; collected
# here (doctests) they would import whichever torch is installed.
collect_ignore_glob = ["*.py"]

"""`python -m frechet bench`: the workloads of bench/WORKLOADS.md in frechet and its peers."""

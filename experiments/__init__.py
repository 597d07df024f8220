"""Everything about many runs: the CLI, sweeps, execution backends and reports."""

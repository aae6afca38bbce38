"""Local operations: the dev supervisor, infrastructure launchers, the CLI."""

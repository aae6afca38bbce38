"""Change orders: changes to a project's contract, diffed, signed or pushed back, audited."""

"""Entry points: the CLI now; Lambda handlers and the local server in later issues."""

"""Pure domain model and services. Standard library only: no SDK, no I/O."""

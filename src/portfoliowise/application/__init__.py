"""Use cases: commands in, events out, over the domain's ports. Standard library only;
handlers call these, adapters are passed in."""

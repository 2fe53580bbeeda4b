"""Backends for the conformance-kit tests: correct ones that must pass and deliberately broken ones that must fail
at the right step, naming the key (issue 13)."""

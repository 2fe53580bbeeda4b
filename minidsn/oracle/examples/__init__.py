"""Example backends for the conformance kit (docs/oracle.md, "A complete worked example")."""

"""Oracle cases: a model's parameters, inputs, outputs, losses and gradients in one float64 .npz (docs/oracle.md).

    from minidsn.oracle import export_case, compare_files
    export_case("mlp", "ref.npz", seed=0)
    report = compare_files("ref.npz", "other.npz", rtol=1e-7, atol=1e-12); print(report.format()); report.ok
"""

from minidsn.oracle.compare import CompareReport, KeyResult, compare_arrays, compare_files
from minidsn.oracle.export import export_case, make_case
from minidsn.oracle.format import (OracleFormatError, build_arrays, conformance_notes, read_case, validate_arrays,
                                   write_case)

__all__ = ["export_case", "make_case", "compare_arrays", "compare_files", "CompareReport", "KeyResult",
           "read_case", "write_case", "build_arrays", "validate_arrays", "conformance_notes", "OracleFormatError"]

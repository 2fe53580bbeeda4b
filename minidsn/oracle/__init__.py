"""Oracle cases: a model's parameters, inputs, outputs, losses and gradients in one float64 .npz (docs/oracle.md);
trajectory cases (format 2: K training steps with their events and draws) and the conformance kit that replays them
through another backend.

    from minidsn.oracle import export_case, compare_files, export_trajectory, verify
    export_case("mlp", "ref.npz", seed=0)
    report = compare_files("ref.npz", "other.npz", rtol=1e-7, atol=1e-12); print(report.format()); report.ok
    export_trajectory("dnm", "dnm.npz", steps=8)
    report = verify("dnm.npz", "mypkg.backend:Backend"); print(report.format()); report.ok
"""

from minidsn.oracle.compare import CompareReport, KeyResult, compare_arrays, compare_files
from minidsn.oracle.conformance import BackendError, ConformanceReport, verify, verify_arrays
from minidsn.oracle.export import export_case, export_trajectory, make_case, make_trajectory
from minidsn.oracle.format import (OracleFormatError, build_arrays, conformance_notes, read_case, trajectory_steps,
                                   validate_arrays, write_case)

__all__ = ["export_case", "make_case", "compare_arrays", "compare_files", "CompareReport", "KeyResult",
           "read_case", "write_case", "build_arrays", "validate_arrays", "conformance_notes", "OracleFormatError",
           "export_trajectory", "make_trajectory", "trajectory_steps", "verify", "verify_arrays",
           "ConformanceReport", "BackendError"]

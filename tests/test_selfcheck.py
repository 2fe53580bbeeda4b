"""`minidsn selfcheck`: every row passes here, and a failing check makes the exit code 1."""


from minidsn.testing import selfcheck


def test_all_primitive_rows_pass_and_table_lists_them(capsys):
    assert selfcheck.main(["--no-kernels"]) == 0
    out = capsys.readouterr().out
    assert "matmul" in out and "logsumexp" in out and " 0 failed" in out
    from minidsn.testing.primitive_cases import CASES

    for case in CASES:  # every gradient case has a row, including the functions added with issue #15
        assert f" {case.name} " in out, case.name


def _discover():
    from minidsn.models.api import MODEL_MODULES, get_model

    for name in MODEL_MODULES:
        get_model(name)
    return []


def test_every_kernel_check_passes():
    rows = selfcheck._kernel_rows(_discover)
    names = [r[1] for r in rows]
    assert any("dag dense" in n for n in names)
    for kind, name, err, ok, msg in rows:
        assert ok, f"{name}: {err} {msg}"


def test_a_failing_kernel_check_fails_the_run(monkeypatch, capsys):
    monkeypatch.setattr(selfcheck, "KERNEL_CHECKS", [("broken kernel", lambda: 1e-3, 1e-10),
                                                     ("raising kernel", lambda: 1 / 0, 1e-10)])
    monkeypatch.setattr(selfcheck, "_primitive_rows", lambda seed: [])
    assert selfcheck.main([]) == 1
    out = capsys.readouterr().out
    assert "broken kernel" in out and "FAIL" in out and "ZeroDivisionError" in out


def test_every_model_package_registers_its_kernel_checks():
    """The registration is made by the model packages: after importing them, each compiled kernel has a row."""
    names = [r[1] for r in selfcheck._kernel_rows(_discover)]
    for expected in ("dag dense", "dag sparse", "dnm closeness", "rnn window", "clip+adagrad", "urn l1+adam",
                     "dmm episode", "engine stacked"):
        assert any(expected in n for n in names), expected


def test_a_model_that_fails_to_import_is_a_failing_row(monkeypatch):
    rows = selfcheck._kernel_rows(lambda: [("minidsn.models.ghost", ImportError("no module"))])
    assert ("kernel", "minidsn.models.ghost") in [(r[0], r[1]) for r in rows if not r[3]]

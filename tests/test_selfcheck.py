"""`minidsn selfcheck`: every row passes here, and a failing check makes the exit code 1."""


from minidsn.testing import selfcheck


def test_all_primitive_rows_pass_and_table_lists_them(capsys):
    assert selfcheck.main(["--no-kernels"]) == 0
    out = capsys.readouterr().out
    assert "matmul" in out and "logsumexp" in out and " 0 failed" in out


def test_every_kernel_check_passes():
    rows = selfcheck._kernel_rows()
    names = [r[1] for r in rows]
    assert any("dag dense" in n for n in names)
    for kind, name, err, ok, msg in rows:
        assert ok, f"{name}: {err} {msg}"


def test_a_failing_kernel_check_fails_the_run(monkeypatch, capsys):
    import minidsn.kernels.selfchecks as sc

    monkeypatch.setattr(sc, "SELF_CHECKS", [("broken kernel", lambda: 1e-3), ("raising kernel", lambda: 1 / 0)])
    monkeypatch.setattr(selfcheck, "_primitive_rows", lambda seed: [])
    assert selfcheck.main([]) == 1
    out = capsys.readouterr().out
    assert "broken kernel" in out and "FAIL" in out and "ZeroDivisionError" in out

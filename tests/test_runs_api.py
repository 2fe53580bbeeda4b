"""The model interface: Option validation, config validation, the lazy registry."""

import sys
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidsn.models.mlp.model  # noqa: F401  (registered before the tests copy the registry)
from minidsn.models import api
from minidsn.models.api import ConfigError, Model, ModelNotAvailable, Option, get_model, list_models, register_model


def test_option_coercions_and_rejections():
    assert Option(float, 1.0).validate("lr", 2) == 2.0 and isinstance(Option(float, 1.0).validate("lr", 2), float)
    assert Option(tuple, (1,)).validate("h", [1, 2]) == (1, 2)
    assert Option(list, [1]).validate("h", (1, 2)) == [1, 2]
    with pytest.raises(ConfigError, match="'n'.*expected int.*bool"):
        Option(int, 1).validate("n", True)
    with pytest.raises(ConfigError, match="'n'.*expected int"):
        Option(int, 1).validate("n", 1.5)
    with pytest.raises(ConfigError, match="'v'.*allowed values: 'a', 'b'"):
        Option(str, "a", choices=("a", "b")).validate("v", "c")
    with pytest.raises(ConfigError, match="'n'.*must be > 0"):
        Option(int, 1, check=lambda v: None if v > 0 else "must be > 0").validate("n", 0)
    with pytest.raises(ConfigError, match="None is not allowed"):
        Option(int, 1).validate("n", None)
    assert Option(int, None).validate("n", None) is None


@given(st.integers(min_value=-10**6, max_value=10**6))
def test_int_option_check_property(v):
    opt = Option(int, 1, check=lambda x: None if x > 0 else "must be > 0")
    if v > 0:
        assert opt.validate("k", v) == v
    else:
        with pytest.raises(ConfigError):
            opt.validate("k", v)


def test_validate_config_reports_all_problems_with_keys():
    opts = {"a": Option(int, 1), "b": Option(str, "x", choices=("x", "y"))}
    assert api.validate_config(opts, {}, "m") == {"a": 1, "b": "x"}
    with pytest.raises(ConfigError) as ei:
        api.validate_config(opts, {"a": "no", "b": "z", "c": 1}, "m")
    msg = str(ei.value)
    assert "unknown config key 'c'" in msg and "known keys: a, b" in msg
    assert "'a'" in msg and "'b'" in msg and "'x', 'y'" in msg


def test_register_and_get(monkeypatch):
    monkeypatch.setattr(api, "_REGISTRY", dict(api._REGISTRY))

    @register_model
    class Toy(Model):
        name = "toy-test"
        description = "a toy"
        options = {"n": Option(int, 2)}

    assert get_model("toy-test") is Toy
    assert Toy.validate_config({"n": 3}) == {"n": 3}
    assert any(m.name == "toy-test" and m.available for m in list_models())

    class Other(Model):
        name = "toy-test"

    with pytest.raises(ValueError, match="already registered"):
        register_model(Other)
    register_model(Other, replace=True)
    assert get_model("toy-test") is Other

    with pytest.raises(TypeError):
        register_model(int)

    class BadDefault(Model):
        name = "bad-default"
        options = {"n": Option(int, 0, check=lambda v: None if v > 0 else "must be > 0")}

    with pytest.raises(ConfigError, match="must be > 0"):
        register_model(BadDefault)


def test_missing_and_broken_model_modules(monkeypatch):
    monkeypatch.setattr(api, "_REGISTRY", dict(api._REGISTRY))
    monkeypatch.setitem(api.MODEL_MODULES, "ghost", "minidsn.models.ghost_that_does_not_exist")
    broken = types.ModuleType("minidsn_test_broken")
    monkeypatch.setitem(api.MODEL_MODULES, "broken", "minidsn_test_broken_mod")

    class Finder:  # a module that raises on import
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "minidsn_test_broken_mod":
                import importlib.util

                class Loader:
                    def create_module(self, spec):
                        return None

                    def exec_module(self, module):
                        raise RuntimeError("boom in model module")

                return importlib.util.spec_from_loader(name, Loader())
            return None

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    del broken
    with pytest.raises(ModelNotAvailable, match="not available yet"):
        get_model("ghost")
    with pytest.raises(ModelNotAvailable, match="boom in model module"):
        get_model("broken")
    with pytest.raises(ModelNotAvailable, match="unknown model 'nope'.*known models"):
        get_model("nope")
    infos = {m.name: m for m in list_models()}
    assert infos["ghost"].description == "not available yet" and not infos["ghost"].available
    assert "boom" in infos["broken"].description and not infos["broken"].available
    assert infos["mlp"].available

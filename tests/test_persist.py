"""Save/load without pickle (``model.save(path)`` / ``tsrnn.load(path)``).

Round trips must give bit-identical outputs (the same arrays feed the same
kernels), and every damaged or foreign file must fail with a ``ValueError``
that names the problem, never by executing code.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import RNNClassifier, RNNForecaster, RNNRegressor, persist

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(hidden_size=4, max_iter=2, bptt_length=8, random_state=0)


# ------------------------------------------------------------------ fixtures
def _hourly(n=160, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    y = pd.Series(np.sin(np.arange(n) / 4) + 0.1 * rng.normal(size=n), idx, name="load")
    X = pd.DataFrame({"temp": rng.normal(size=n)}, index=idx)
    return y, X


def _long(lengths=(90, 80), seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for i, n in enumerate(lengths):
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
                    "y": 5 * i + np.sin(np.arange(n) / 2) + 0.1 * rng.normal(size=n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _round_trip(model, tmp_path, name="model.npz"):
    path = tmp_path / name
    model.save(path)
    return tsrnn.load(path), path


@pytest.fixture
def fitted_forecaster():
    y, X = _hourly()
    return RNNForecaster(horizon=3, **TINY).fit(y.iloc[:-6], X.iloc[:-6]), y, X


@pytest.fixture
def saved(fitted_forecaster, tmp_path):
    f, _, _ = fitted_forecaster
    path = tmp_path / "f.npz"
    f.save(path)
    return path


def _rewrite(path, out, *, meta=None, drop=(), replace=None):
    """Copy a model file with edited metadata and/or arrays (a tampered file)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    m = json.loads(arrays.pop("__metadata__").tobytes().decode())
    if meta is not None:
        meta(m)
    for k in drop:
        arrays.pop(k)
    arrays.update(replace or {})
    blob = np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)
    np.savez(out, __metadata__=blob, **arrays)
    return out


# --------------------------------------------------------------- forecaster
def test_forecaster_pandas_covariates_round_trip(fitted_forecaster, tmp_path):
    f, y, X = fitted_forecaster
    g, _ = _round_trip(f, tmp_path)
    assert type(g) is RNNForecaster
    assert g.get_params() == f.get_params()
    Xf = X.iloc[-6:-3]
    pd.testing.assert_series_equal(g.predict(X=Xf), f.predict(X=Xf), rtol=0, atol=0)
    pd.testing.assert_frame_equal(
        g.predict_interval(X=Xf, coverage=0.8),
        f.predict_interval(X=Xf, coverage=0.8),
        rtol=0,
        atol=0,
    )
    # identical streams of new observations give identical forecasts
    f.update(y.iloc[-6:-3], X.iloc[-6:-3])
    g.update(y.iloc[-6:-3], X.iloc[-6:-3])
    Xf2 = X.iloc[-3:]
    pd.testing.assert_series_equal(g.predict(X=Xf2), f.predict(X=Xf2), rtol=0, atol=0)
    assert g.score(y.iloc[-3:], X.iloc[-3:]) == f.score(y.iloc[-3:], X.iloc[-3:])
    np.testing.assert_array_equal(g.params_, f.params_)
    assert g.loss_curve_ == f.loss_curve_
    assert g.n_iter_ == f.n_iter_ and g.t_ == f.t_
    np.testing.assert_array_equal(g.conformal_scores_, f.conformal_scores_)


def test_forecaster_partial_fit_continues_identically(fitted_forecaster, tmp_path):
    # the optimizer's moments and step count are saved, so training resumes
    f, y, X = fitted_forecaster
    g, _ = _round_trip(f, tmp_path)
    f.partial_fit(y.iloc[-6:], X.iloc[-6:])
    g.partial_fit(y.iloc[-6:], X.iloc[-6:])
    np.testing.assert_array_equal(g.params_, f.params_)


def test_forecaster_numpy_round_trip(tmp_path):
    y = np.sin(np.arange(150) / 3) + 0.05 * np.random.default_rng(1).normal(size=150)
    f = RNNForecaster(horizon=4, cell="gru", **TINY).fit(y[:-5])
    g, _ = _round_trip(f, tmp_path)
    np.testing.assert_array_equal(g.predict(), f.predict())
    lo_f, hi_f = f.predict_interval()
    lo_g, hi_g = g.predict_interval()
    np.testing.assert_array_equal(lo_g, lo_f)
    np.testing.assert_array_equal(hi_g, hi_f)
    f.update(y[-5:])
    g.update(y[-5:])
    np.testing.assert_array_equal(g.predict(), f.predict())


def test_forecaster_long_format_round_trip(tmp_path):
    df = _long()
    k = df.groupby("unique_id").cumcount(ascending=False)
    f = RNNForecaster(horizon=2, **TINY).fit(df[k >= 4])
    g, _ = _round_trip(f, tmp_path)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), rtol=0, atol=0)
    pd.testing.assert_frame_equal(
        g.predict_interval(coverage=0.8),
        f.predict_interval(coverage=0.8),
        rtol=0,
        atol=0,
    )
    new = df[k < 4]
    f.update(new)
    g.update(new)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), rtol=0, atol=0)


def test_forecaster_recursive_round_trip(tmp_path):
    y = np.sin(np.arange(140) / 3)
    y[40:43] = np.nan  # a gap: the state runs through it on its own estimates
    f = RNNForecaster(horizon=3, strategy="recursive", cell="rnn", **TINY).fit(y[:-4])
    g, _ = _round_trip(f, tmp_path)
    np.testing.assert_array_equal(g.predict(horizon=5), f.predict(horizon=5))
    new = np.array([0.1, np.nan, 0.3, 0.2])
    f.update(new)
    g.update(new)
    np.testing.assert_array_equal(g.predict(), f.predict())


def test_randomstate_random_state_stored_as_none(tmp_path):
    y = np.sin(np.arange(120) / 3)
    params = dict(TINY, random_state=np.random.RandomState(0))
    f = RNNForecaster(horizon=2, **params).fit(y)
    with pytest.warns(UserWarning, match="random_state=None"):
        f.save(tmp_path / "g.npz")
    g = tsrnn.load(tmp_path / "g.npz")
    assert g.random_state is None
    np.testing.assert_array_equal(g.predict(), f.predict())


def test_float32_and_tuple_params_survive(tmp_path):
    y = np.sin(np.arange(120) / 3)
    f = RNNForecaster(horizon=2, dtype=np.float32, season_length=(3, 6), **TINY)
    f.fit(y)
    g, _ = _round_trip(f, tmp_path)
    assert g.dtype is np.float32 and g.season_length == (3, 6)
    np.testing.assert_array_equal(g.predict(), f.predict())


# ------------------------------------------------------------ window models
def _windows(n=60, window=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, window, 2))
    return X, X[:, :, 0].sum(axis=1) + 0.1 * rng.normal(size=n)


def test_regressor_round_trip(tmp_path):
    X, y = _windows()
    Y = np.column_stack([y, -y])
    r = RNNRegressor(
        input_size=2, **{k: v for k, v in TINY.items() if k != "bptt_length"}
    )
    r.fit(X, Y)
    g, _ = _round_trip(r, tmp_path)
    np.testing.assert_array_equal(g.predict(X), r.predict(X))
    assert g.n_features_in_ == r.n_features_in_ and g.window_ == r.window_
    # warm training continues from the same optimizer and random stream
    r.partial_fit(X, Y)
    g.partial_fit(X, Y)
    np.testing.assert_array_equal(g.predict(X), r.predict(X))


@pytest.mark.parametrize("labels", [np.array(["lo", "hi"]), np.array([0, 1, 2])])
def test_classifier_round_trip(tmp_path, labels):
    X, y = _windows()
    lab = labels[
        np.digitize(y, np.quantile(y, np.linspace(0, 1, len(labels) + 1)[1:-1]))
    ]
    c = RNNClassifier(
        cell="lstm", pooling="mean", hidden_size=4, max_iter=2, random_state=0
    ).fit(X, lab)
    g, _ = _round_trip(c, tmp_path)
    np.testing.assert_array_equal(g.classes_, c.classes_)
    np.testing.assert_array_equal(g.predict(X), c.predict(X))
    np.testing.assert_array_equal(g.predict_proba(X), c.predict_proba(X))


def test_classifier_object_labels_and_feature_names(tmp_path):
    X, y = _windows(window=3)
    frame = pd.DataFrame(X.reshape(len(X), -1), columns=[f"f{i}" for i in range(6)])
    lab = pd.Series(np.where(y > np.median(y), "up", "down"), dtype=object)
    c = RNNClassifier(input_size=2, hidden_size=4, max_iter=2, random_state=0)
    c.fit(frame, lab)
    assert c.classes_.dtype == object
    g, _ = _round_trip(c, tmp_path)
    assert g.classes_.dtype == object
    np.testing.assert_array_equal(g.feature_names_in_, c.feature_names_in_)
    np.testing.assert_array_equal(g.predict(frame), c.predict(frame))


def test_pickle_still_works(fitted_forecaster):
    f, _, X = fitted_forecaster
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(
        g.predict(X=X.iloc[-6:-3]), f.predict(X=X.iloc[-6:-3])
    )


# ------------------------------------------------------------------- errors
def test_load_uses_allow_pickle_false(saved, monkeypatch):
    seen = []
    real = np.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("allow_pickle"))
        return real(*args, **kwargs)

    monkeypatch.setattr(persist.reading.np, "load", spy)
    tsrnn.load(saved)
    assert seen == [False]


def test_object_array_refused(saved, tmp_path):
    bad = _rewrite(
        saved,
        tmp_path / "obj.npz",
        replace={"params_": np.array([{"x": 1}], dtype=object)},
    )
    with pytest.raises(ValueError, match="pickle-free"):
        tsrnn.load(bad)


def test_pickle_file_refused(fitted_forecaster, tmp_path):
    f, _, _ = fitted_forecaster
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(f))
    with pytest.raises(ValueError, match="pickle"):
        tsrnn.load(path)


def test_wrong_version(saved, tmp_path):
    def newer(m):
        m["format_version"] = persist.FORMAT_VERSION + 1

    with pytest.raises(ValueError, match="version 2 is not supported.*upgrade"):
        tsrnn.load(_rewrite(saved, tmp_path / "v.npz", meta=newer))

    def older(m):
        m["format_version"] = 0

    with pytest.raises(ValueError, match="version 0 is not supported.*save the model"):
        tsrnn.load(_rewrite(saved, tmp_path / "v0.npz", meta=older))


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        tsrnn.load(cut)


def test_not_a_model_file(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ValueError, match="not a tsrnn model file"):
        tsrnn.load(other)


def test_non_json_metadata(saved, tmp_path):
    with np.load(saved, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["__metadata__"] = np.frombuffer(b"{not json", dtype=np.uint8)
    bad = tmp_path / "json.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="not valid UTF-8 JSON"):
        tsrnn.load(bad)
    arrays["__metadata__"] = np.zeros(3, np.float64)
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="1-D uint8"):
        tsrnn.load(bad)


def test_missing_array(saved, tmp_path):
    bad = _rewrite(saved, tmp_path / "miss.npz", drop=["_state"])
    with pytest.raises(ValueError, match=r"\['_state'\].*missing.*save the fitted"):
        tsrnn.load(bad)

    def unlist(m):
        del m["arrays"]["_state"]

    # consistently removed from both: still caught by what the model needs
    bad = _rewrite(saved, tmp_path / "miss2.npz", meta=unlist, drop=["_state"])
    with pytest.raises(ValueError, match="'_state' is missing"):
        tsrnn.load(bad)


def test_shape_disagrees_with_metadata(saved, tmp_path):
    with np.load(saved, allow_pickle=False) as npz:
        top = npz["_top"]
    bad = _rewrite(saved, tmp_path / "shape.npz", replace={"_top": top[:, :-1]})
    with pytest.raises(ValueError, match="'_top' has shape"):
        tsrnn.load(bad)

    # consistent with its own metadata, inconsistent with the network
    bad = _rewrite(saved, tmp_path / "shape2.npz", meta=_edit_units(5))
    with pytest.raises(ValueError, match="'params_' has shape .* implies"):
        tsrnn.load(bad)


def test_wrong_dtype(saved, tmp_path):
    with np.load(saved, allow_pickle=False) as npz:
        # the model is float32 (the forecaster's default): weights of the other type
        p = npz["params_"].astype(np.float64)

    def relabel(m):
        m["arrays"]["params_"]["dtype"] = "<f8"

    bad = _rewrite(saved, tmp_path / "dt.npz", meta=relabel, replace={"params_": p})
    with pytest.raises(ValueError, match="'params_' has dtype float64.*float32"):
        tsrnn.load(bad)


def test_tampered_params_rejected(saved, tmp_path):
    def bad_cell(m):
        m["params"]["cell"] = "transformer"

    with pytest.raises(ValueError, match="invalid estimator parameters"):
        tsrnn.load(_rewrite(saved, tmp_path / "p.npz", meta=bad_cell))


def test_other_class(saved, tmp_path):
    with pytest.raises(ValueError, match="holds a RNNForecaster, not a RNNRegressor"):
        tsrnn.load(saved, expected=RNNRegressor)
    assert type(tsrnn.load(saved, expected="RNNForecaster")) is RNNForecaster

    def relabel(m):
        m["class"] = "RNNClassifier"

    # a forecaster's arrays under another class name do not make a classifier
    with pytest.raises(ValueError, match="invalid estimator parameters|missing"):
        tsrnn.load(_rewrite(saved, tmp_path / "c.npz", meta=relabel))

    def unknown(m):
        m["class"] = "os.system"

    with pytest.raises(ValueError, match="unknown estimator class"):
        tsrnn.load(_rewrite(saved, tmp_path / "u.npz", meta=unknown))


def test_save_refuses_unfitted_and_other_estimators(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        RNNForecaster().save(tmp_path / "x.npz")
    with pytest.raises(TypeError, match="save supports"):
        persist.save(tsrnn.NaiveForecaster(), tmp_path / "x.npz")


def test_file_is_a_plain_zip_of_npy(saved):
    # the format promise: only .npy members, metadata as UTF-8 JSON
    with zipfile.ZipFile(saved) as z:
        assert all(n.endswith(".npy") for n in z.namelist())
    with np.load(saved, allow_pickle=False) as npz:
        meta = json.loads(npz["__metadata__"].tobytes().decode("utf-8"))
    assert meta["format"] == "tsrnn-model" and meta["class"] == "RNNForecaster"
    assert meta["format_version"] == persist.FORMAT_VERSION


# ------------------------------------------------------- atomic model files
class _Interrupted(Exception):
    """What the fake disk raises (a full disk, an I/O error)."""


class _FlakyFile:
    """A writable file whose ``write`` raises once ``budget`` writes are spent."""

    def __init__(self, fh, counter, error):
        self._fh, self._counter, self._error = fh, counter, error

    def write(self, data):
        self._counter["n"] += 1
        if self._counter["n"] == self._counter["fail_at"]:
            if self._counter["partial"]:  # half the bytes reach the disk first
                self._fh.write(bytes(data)[: len(data) // 2])
            raise self._error
        return self._fh.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()

    def __iter__(self):
        return iter(self._fh)

    def __getattr__(self, name):
        return getattr(self._fh, name)


@pytest.fixture
def flaky_disk(monkeypatch):
    """Every file opened for writing fails at write number ``fail_at``.

    Both ``open`` (builtins) and ``io.open`` (what zipfile and numpy call) are
    wrapped, so the test holds whatever way ``save`` opens its files.
    """
    import builtins
    import io

    counter = {"n": 0, "fail_at": 0, "partial": False}
    real_open = io.open

    def fake_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        if any(c in mode for c in "wxa+"):
            return _FlakyFile(fh, counter, counter["error"])
        return fh

    counter["error"] = _Interrupted("No space left on device")
    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    return counter


def _old_and_new_models():
    y = np.sin(np.arange(120) / 3)
    old = RNNForecaster(horizon=2, **TINY).fit(y)
    new = RNNForecaster(horizon=2, **dict(TINY, random_state=1)).fit(y)
    return old, new


@pytest.mark.parametrize("partial", [False, True])
def test_interrupted_save_keeps_the_old_model(tmp_path, flaky_disk, partial):
    old, new = _old_and_new_models()
    path = tmp_path / "model.npz"
    flaky_disk["fail_at"] = 0
    old.save(path)
    good = path.read_bytes()
    # count the writes a whole save makes
    flaky_disk["n"] = 0
    new.save(tmp_path / "count.npz")
    n_writes = flaky_disk["n"]
    (tmp_path / "count.npz").unlink()
    assert n_writes > 5
    flaky_disk["partial"] = partial
    errors = [_Interrupted("No space left on device"), KeyboardInterrupt()]
    for k in range(1, n_writes + 1):
        flaky_disk["n"], flaky_disk["fail_at"] = 0, k
        flaky_disk["error"] = errors[k % 2]
        with pytest.raises((_Interrupted, KeyboardInterrupt)):
            new.save(path)
        # the previous model is intact, and nothing else is left behind
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"], k
        assert path.read_bytes() == good, k
    flaky_disk["fail_at"] = 0
    np.testing.assert_array_equal(tsrnn.load(path).predict(), old.predict())
    # an uninterrupted save replaces it
    new.save(path)
    np.testing.assert_array_equal(tsrnn.load(path).predict(), new.predict())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_save_interrupted_at_fsync_or_rename(tmp_path, monkeypatch, step):
    old, new = _old_and_new_models()
    path = tmp_path / "model.npz"
    old.save(path)
    good = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(persist.fileformat.os, step, broken)
    with pytest.raises(OSError, match="Input/output"):
        new.save(path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert path.read_bytes() == good


def test_save_fsyncs_before_replacing(tmp_path, monkeypatch):
    old, _ = _old_and_new_models()
    calls = []
    files = persist.fileformat  # the module that writes (write_atomic)
    real_fsync, real_replace = files.os.fsync, files.os.replace
    monkeypatch.setattr(
        files.os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd)
    )
    monkeypatch.setattr(
        files.os,
        "replace",
        lambda a, b: (
            calls.append(("replace", os.path.dirname(a))) or real_replace(a, b)
        ),
    )
    old.save(tmp_path / "m.npz")
    # the file's fsync, the rename from a temporary in the same directory, and
    # the directory's fsync
    assert calls == ["fsync", ("replace", str(tmp_path)), "fsync"]


def test_save_keeps_permissions_and_follows_links(tmp_path):
    old, new = _old_and_new_models()
    real = tmp_path / "real.npz"
    old.save(real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    new.save(link)
    assert link.is_symlink() and os.stat(real).st_mode & 0o777 == 0o640
    np.testing.assert_array_equal(tsrnn.load(real).predict(), new.predict())


def test_save_into_a_missing_directory(tmp_path):
    old, _ = _old_and_new_models()
    with pytest.raises(FileNotFoundError, match="does not exist.*nothing was written"):
        old.save(tmp_path / "no" / "such" / "model.npz")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        old.save(tmp_path / "dir.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.npz"]


# ------------------------------------------------------ the .npz suffix rule
def test_save_m_writes_m_npz_and_load_m_finds_it(tmp_path, monkeypatch):
    old, _ = _old_and_new_models()
    monkeypatch.chdir(tmp_path)
    old.save("m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    for name in ("m", "m.npz", tmp_path / "m"):
        np.testing.assert_array_equal(tsrnn.load(name).predict(), old.predict())


def test_load_missing_file_names_every_path_tried(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        tsrnn.load(tmp_path / "nothing")
    msg = str(info.value)
    assert repr(str(tmp_path / "nothing")) in msg
    assert repr(str(tmp_path / "nothing.npz")) in msg
    with pytest.raises(FileNotFoundError, match="nothing.npz'; check the path"):
        tsrnn.load(tmp_path / "nothing.npz")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        tsrnn.load(tmp_path)


# ------------------------------------------- checked before anything is allocated
def _edit_schema(**fields):
    def edit(m):
        m["attributes"]["schema_"].update(fields)

    return edit


def _edit_params(**fields):
    def edit(m):
        m["params"].update(fields)

    return edit


def _edit_units(units):
    """A file edited to ``units`` per layer, parameter and fitted value alike
    (as a fit with ``hidden_size=units`` writes them)."""

    def edit(m):
        m["params"].update(hidden_size=units)
        m["attributes"].update(hidden_size_=units)

    return edit


@pytest.fixture
def saved_hourly(tmp_path):
    y, _ = _hourly()
    # explicit levels: the file then says what "differencing=True" contradicts
    f = RNNForecaster(horizon=2, differencing=False, **TINY).fit(y)
    path = tmp_path / "hourly.npz"
    f.save(path)
    return path


@pytest.mark.parametrize(
    "edit, match",
    [
        # metadata asking for a network far larger than the weights held: a
        # message, never a MemoryError (the check runs before any allocation)
        (
            _edit_units(10**9),
            r"hidden_size=1000000000 and num_layers=1 .*need more than "
            r"1,000,000,000 weights, but array 'params_' holds \d+",
        ),
        (
            _edit_params(num_layers=10**8),
            r"num_layers=100000000 .*need more than .* weights",
        ),
        (_edit_params(hidden_size=0), r"invalid estimator parameters.*hidden_size"),
        (_edit_params(hidden_size=-4), r"invalid estimator parameters.*hidden_size"),
        (_edit_schema(freq="-1h"), r"schema_\.freq '-1h' is not a positive step"),
        (_edit_schema(freq="0h"), r"schema_\.freq '0h' is not a positive step"),
        (_edit_schema(n_seen=[-5]), r"schema_\.n_seen must hold a positive count"),
        (_edit_schema(kind="pickle"), r"schema_\.kind 'pickle' is not one of"),
        (
            _edit_params(strategy="recursive"),
            r"_layout\.horizon_out=2 does not match the parameters "
            r"\(strategy='recursive'",
        ),
        (
            # an explicit differencing that contradicts what fit resolved
            lambda m: m["params"].update(
                differencing=not m["attributes"]["_layout"]["relative"]
            ),
            r"_layout\.relative=(False|True) does not match",
        ),
        (
            # as many seasons as fitted (the weights fit), one of them huge
            lambda m: m["attributes"]["_layout"].update(seasons=[24, 10**9]),
            r"array '_tail_y' has shape \(1, 168, 1\) but the model's metadata "
            r"implies \(1, 1000000000, 1\)",
        ),
        (
            lambda m: (
                m["params"].update(season_length=24),
                m["attributes"]["_layout"].update(seasons=[12]),
            ),
            r"_layout\.seasons=\(12,\) does not match the parameters .*"
            r"season_length=24.*imply \(24,\)",
        ),
        (
            lambda m: m["attributes"]["_optimizer"]["scalars"].update(
                learning_rate=-1.0
            ),
            r"optimizer attribute learning_rate=-1\.0 is out of range",
        ),
        (
            lambda m: m["attributes"]["_optimizer"]["scalars"].update(t=-3),
            r"optimizer attribute t=-3 is out of range",
        ),
        (lambda m: m["attributes"].update(n_iter_=-1), r"n_iter_ must be an int >= 0"),
        (
            lambda m: m["attributes"].update(_log={"n_iter": 1, "evil": 2}),
            r"invalid training log",
        ),
    ],
    ids=[
        "huge-hidden-size",
        "huge-num-layers",
        "zero-hidden-size",
        "negative-hidden-size",
        "negative-freq",
        "zero-freq",
        "negative-n-seen",
        "unknown-kind",
        "strategy-disagrees-with-layout",
        "differencing-disagrees-with-layout",
        "huge-season",
        "seasons-disagree-with-season-length",
        "negative-learning-rate",
        "negative-step-count",
        "negative-n-iter",
        "unknown-log-field",
    ],
)
def test_impossible_metadata_refused(saved_hourly, tmp_path, edit, match):
    bad = _rewrite(saved_hourly, tmp_path / "bad.npz", meta=edit)
    with pytest.raises(ValueError, match=match):
        tsrnn.load(bad)


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("_scaler.y_scale", 0.0, r"'_scaler\.y_scale' holds 1 zero or negative value"),
        ("_scaler.y_scale", -2.0, r"'_scaler\.y_scale' holds 1 zero or .*-2\.0"),
        ("_scaler.y_scale", np.nan, r"'_scaler\.y_scale' holds 1 non-finite value"),
        ("_scaler.y_scale", np.inf, r"'_scaler\.y_scale' holds 1 non-finite value"),
        ("conformal_scale_", 0.0, r"'conformal_scale_' holds 1 zero or negative"),
        ("conformal_scores_", -1.0, r"'conformal_scores_' holds \d+ negative value"),
        ("params_", np.inf, r"'params_' holds \d+ non-finite"),
    ],
    ids=["zero", "negative", "nan", "inf", "zero-conformal-scale",
         "negative-residuals", "inf-weights"],
)
def test_impossible_arrays_refused(saved_hourly, tmp_path, name, value, match):
    with np.load(saved_hourly, allow_pickle=False) as npz:
        arr = npz[name].copy()
    arr[...] = value
    bad = _rewrite(saved_hourly, tmp_path / "bad.npz", replace={name: arr})
    with pytest.raises(ValueError, match=match):
        tsrnn.load(bad)


def test_window_model_impossible_values_refused(tmp_path):
    X, y = _windows()
    r = RNNRegressor(input_size=2, hidden_size=4, max_iter=2, random_state=0).fit(X, y)
    path = tmp_path / "r.npz"
    r.save(path)
    bad = _rewrite(path, tmp_path / "s.npz", replace={"_y_scale": np.zeros(1)})
    with pytest.raises(ValueError, match=r"'_y_scale' holds 1 zero or negative"):
        tsrnn.load(bad)
    bad = _rewrite(path, tmp_path / "h.npz", meta=_edit_units(10**9))
    with pytest.raises(ValueError, match=r"hidden_size=1000000000 .*need more than"):
        tsrnn.load(bad)


def test_load_size_budget(saved_hourly):
    size = sum(
        info.file_size for info in zipfile.ZipFile(saved_hourly).infolist()
    )
    with pytest.raises(ValueError, match=r"more than the load budget max_bytes=1,000"):
        tsrnn.load(saved_hourly, max_bytes=1000)
    within = tsrnn.load(saved_hourly, max_bytes=size)
    unlimited = tsrnn.load(saved_hourly, max_bytes=None)
    assert within.n_iter_ == unlimited.n_iter_ >= 1
    np.testing.assert_array_equal(within.predict(), unlimited.predict())
    with pytest.raises(ValueError, match="max_bytes must be a positive int"):
        tsrnn.load(saved_hourly, max_bytes=-1)


def _npy_header(shape, dtype="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()  # magic string and header


def test_array_header_checked_before_its_data_is_read(saved_hourly, tmp_path):
    # a member whose header claims a terabyte array (metadata agreeing): refused
    # from the header, never allocated
    huge = (10**6, 10**6)
    out = tmp_path / "huge.npz"
    with zipfile.ZipFile(saved_hourly) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "_top.npy":
                data = _npy_header(huge) + b"\0" * 64
            elif info.filename == "__metadata__.npy":
                arr = np.load(io.BytesIO(data))
                m = json.loads(arr.tobytes())
                m["arrays"]["_top"]["shape"] = list(huge)
                blob = np.frombuffer(json.dumps(m).encode(), np.uint8)
                buf = io.BytesIO()
                np.save(buf, blob)
                data = buf.getvalue()
            dst.writestr(info.filename, data)
    with pytest.raises(ValueError, match=r"'_top' claims shape \(1000000, 1000000\)"):
        tsrnn.load(out)


# ------------------------------------------- set_params after fit (one rule)
CHANGED = (
    r"parameters changed since fit: {}.*Call fit to refit with them, or set them "
    r"back"
)


def test_forecaster_refuses_parameters_changed_since_fit(tmp_path):
    y = np.sin(np.arange(140) / 3)
    f = RNNForecaster(horizon=3, **TINY).fit(y[:-4])
    before = f.predict()
    lo, hi = f.predict_interval()
    params = f.params_.copy()
    f.set_params(strategy="recursive", hidden_size=8)
    msg = CHANGED.format(
        r"hidden_size=8 \(fitted with 4\), strategy='recursive' \(fitted with "
        r"'auto'\)"
    )
    msg_save = msg.replace(".*Call", r"; RNNForecaster\.save uses.*Call")
    with pytest.raises(ValueError, match=msg):
        f.predict()
    with pytest.raises(ValueError, match=msg):
        f.predict_interval()
    with pytest.raises(ValueError, match=msg):
        f.update(y[-4:])
    with pytest.raises(ValueError, match=msg):
        f.score(y[-4:])
    with pytest.raises(ValueError, match=msg):
        f.partial_fit(y[-4:])
    with pytest.raises(ValueError, match=msg_save):
        f.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
    with pytest.raises(ValueError, match=msg):
        f.set_params(warm_start=True).fit(y[:-4])
    # nothing moved: set back, the model forecasts as before
    np.testing.assert_array_equal(f.params_, params)
    f.set_params(strategy="auto", hidden_size=4, warm_start=False)
    np.testing.assert_array_equal(f.predict(), before)
    np.testing.assert_array_equal(f.predict_interval()[0], lo)
    # a refit with the new parameters is the way forward
    f.set_params(strategy="recursive", hidden_size=8).fit(y[:-4])
    g, _ = _round_trip(f, tmp_path)
    assert (g.strategy, g.hidden_size) == ("recursive", 8)
    np.testing.assert_array_equal(g.predict(), f.predict())


def test_equivalent_values_are_not_changes():
    y = np.sin(np.arange(120) / 3)
    f = RNNForecaster(horizon=2, season_length=(3, 6), **TINY).fit(y)
    f.set_params(dtype=np.float32, season_length=[3, 6])
    assert f.predict().shape == (2,)


def test_training_settings_may_change_and_are_saved(tmp_path):
    y = np.sin(np.arange(140) / 3)
    f = RNNForecaster(horizon=2, **TINY).fit(y[:-4])
    # a new solver: the file stays loadable (no Adam state under solver='sgd')
    f.set_params(solver="sgd", learning_rate_init=1e-2, max_iter=5)
    g, _ = _round_trip(f, tmp_path)
    assert (g.solver, g.learning_rate_init, g.max_iter) == ("sgd", 1e-2, 5)
    np.testing.assert_array_equal(g.predict(), f.predict())
    # and the next training call starts a fresh SGD with the new rate, alike
    f.partial_fit(y[-4:])
    g.partial_fit(y[-4:])
    assert type(f._optimizer).__name__ == "SGD" and f._optimizer.learning_rate == 1e-2
    np.testing.assert_array_equal(g.params_, f.params_)
    np.testing.assert_array_equal(g.predict(), f.predict())


@pytest.mark.parametrize("cls", [RNNRegressor, RNNClassifier])
def test_window_models_refuse_parameters_changed_since_fit(tmp_path, cls):
    X, y = _windows()
    target = y if cls is RNNRegressor else np.where(y > 0, "up", "down")
    m = cls(input_size=2, hidden_size=4, max_iter=2, random_state=0).fit(X, target)
    before = m.predict(X)
    m.set_params(pooling="mean")
    msg = CHANGED.format(r"pooling='mean' \(fitted with 'last'\)")
    with pytest.raises(ValueError, match=msg):
        m.predict(X)
    with pytest.raises(ValueError, match=msg):
        m.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=msg):
        m.partial_fit(X, target)
    if cls is RNNClassifier:
        with pytest.raises(ValueError, match=msg):
            m.predict_proba(X)
    m.set_params(pooling="last", solver="sgd")  # a training setting: saved
    g, _ = _round_trip(m, tmp_path)
    assert g.solver == "sgd"
    np.testing.assert_array_equal(g.predict(X), before)
    m.partial_fit(X, target)
    g.partial_fit(X, target)
    np.testing.assert_array_equal(g.predict(X), m.predict(X))


# ------------------------------------------------------------ names by tuple
@pytest.mark.parametrize(
    "name",
    [
        ("a", "b"),
        ("load", np.int64(3)),
        ("load", 2.5, None),
        ("sensor", pd.Timestamp("2024-01-01 06:00", tz="Europe/Paris")),
        ("a", ("b", 1)),
    ],
    ids=["str", "numpy-int", "float-none", "timestamp", "nested"],
)
def test_series_named_by_a_tuple_predicts_after_load(tmp_path, name):
    y, X = _hourly()
    y = y.rename(name)
    X = X.rename(columns={"temp": ("temp", np.int64(1))})
    f = RNNForecaster(horizon=3, **TINY).fit(y.iloc[:-6], X.iloc[:-6])
    g, _ = _round_trip(f, tmp_path)
    Xf = X.iloc[-6:-3]
    pd.testing.assert_series_equal(g.predict(X=Xf), f.predict(X=Xf), rtol=0, atol=0)
    assert g.predict(X=Xf).name == name
    pd.testing.assert_frame_equal(
        g.predict_interval(X=Xf), f.predict_interval(X=Xf), rtol=0, atol=0
    )
    f.update(y.iloc[-6:-3], X.iloc[-6:-3])
    g.update(y.iloc[-6:-3], X.iloc[-6:-3])
    pd.testing.assert_series_equal(
        g.predict(X=X.iloc[-3:]), f.predict(X=X.iloc[-3:]), rtol=0, atol=0
    )


def test_frame_with_tuple_columns_predicts_after_load(tmp_path):
    y, _ = _hourly()
    frame = pd.DataFrame({("load", 1): y, ("load", 2): 2 * y})
    f = RNNForecaster(horizon=2, **TINY).fit(frame)
    g, _ = _round_trip(f, tmp_path)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), rtol=0, atol=0)


def test_name_only_pickle_could_store_is_refused_at_save(tmp_path):
    y, _ = _hourly()
    f = RNNForecaster(horizon=2, **TINY).fit(y.rename(("load", object())))
    assert f.predict().shape == (2,)  # fit and predict need no file
    with pytest.raises(ValueError, match=r"stored without pickle.*use str, int"):
        f.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_directory_without_write_permission(tmp_path, monkeypatch):
    old, new = _old_and_new_models()
    old.save(tmp_path / "m.npz")
    good = (tmp_path / "m.npz").read_bytes()

    def denied(directory, base):  # what a read-only directory answers
        raise PermissionError(13, "Permission denied", os.path.join(directory, base))

    monkeypatch.setattr(persist.fileformat, "_create_temporary", denied)
    with pytest.raises(PermissionError, match="cannot create a file in .*Permission"):
        new.save(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == good


def test_window_model_labels_and_names_checked(tmp_path):
    X, y = _windows(window=3)
    frame = pd.DataFrame(X.reshape(len(X), -1), columns=[f"f{i}" for i in range(6)])
    c = RNNClassifier(input_size=2, hidden_size=4, max_iter=2, random_state=0)
    c.fit(frame, np.where(y > np.median(y), "up", "down"))
    path = tmp_path / "c.npz"
    c.save(path)

    def twice(m):
        m["attributes"]["classes_object"] = ["up", "up"]

    with pytest.raises(ValueError, match="classes_ must be a 1-D array of distinct"):
        tsrnn.load(_rewrite(path, tmp_path / "l.npz", meta=twice))

    def fewer(m):
        m["attributes"]["feature_names_in_"] = ["f0"]

    with pytest.raises(ValueError, match="feature_names_in_ must list n_features_in_"):
        tsrnn.load(_rewrite(path, tmp_path / "n.npz", meta=fewer))

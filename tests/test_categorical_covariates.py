"""RNNForecaster: categorical covariates, the series id embedded, past-only ones.

Issue 16, items 4 and 5. The engine's embedding maths is proven in
``test_embeddings.py`` (finite differences, the one-hot reparametrisation);
here: what the forecaster does with them end to end -- codes in the schema,
the reserved unknown row and its warning, save/load, past-only covariates
never read beyond the origin (leakage), and the evaluation helpers (which
rebuild the user's data from codes).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.data.categorical import UnknownCategoryWarning

DAYS = pd.date_range("2024-01-01", periods=90, freq="D")
SHOPS = np.array(["north", "south", "east"])


def long_frame(n_series=3, n=90, seed=0):
    """Levels jump with a known categorical ``shop``; ``vol`` is read past-only."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        shop = SHOPS[(np.arange(n) // 5 + i) % 3]
        effect = np.select([shop == "north", shop == "south"], [2.0, -2.0], 0.0)
        vol = rng.standard_normal(n)
        y = i + effect + 0.5 * np.roll(vol, 1) + 0.1 * rng.standard_normal(n)
        frames.append(pd.DataFrame({
            "unique_id": f"s{i}", "ds": DAYS[:n], "y": y, "shop": shop, "vol": vol,
        }))
    return pd.concat(frames, ignore_index=True)


def future(df, h=3, shop=None, vol=None):
    """Future rows of ``df``'s series: the next ``shop`` (cycled) and ``vol``."""
    rows = []
    for uid, g in df.groupby("unique_id", sort=False):
        ds = pd.date_range(g["ds"].iloc[-1], periods=h + 1, freq="D")[1:]
        s = [shop] * h if shop is not None else list(SHOPS[np.arange(h) % 3])
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "shop": s}))
        if vol is not None:
            rows[-1]["vol"] = vol
    return pd.concat(rows, ignore_index=True)


def fit(model, *data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*data)


def tiny(**kw):
    return RNNForecaster(**{
        "hidden_size": 6, "horizon": 3, "max_iter": 3, "random_state": 0, **kw
    })


@pytest.fixture(scope="module")
def model():
    return fit(tiny(past_covariates=["vol"], id_embedding=True), long_frame())


def test_categories_codes_and_tables(model):
    schema = model.schema_
    assert schema.categories == {"shop": ("east", "north", "south")}
    assert schema.past_names == ("vol",)
    params = model.named_params()
    # shop: 3 categories + the unknown row, default width round(1.6 * 3**0.56);
    # the id: one row per series, no unknown row
    assert params["embeddings.0.weight"].shape == (4, 3)
    assert params["embeddings.1.weight"].shape == (3, 3)
    table = params["embeddings.0.weight"]
    np.testing.assert_allclose(table[-1], table[:-1].mean(axis=0))
    # inputs: y, shop one-hot (4) + calendar, vol, the codes -> embedded
    lay = model._layout
    assert lay.code_columns == (0,) and lay.past_columns == (1,) and lay.id_code
    assert model._net.stack.input_size == lay.n_inputs - 2 + 3 + 3


def test_embedding_dims_override():
    m = fit(tiny(embedding_dims={"shop": 5, "unique_id": 2}, id_embedding=True),
            long_frame().drop(columns="vol"))
    p = m.named_params()
    assert p["embeddings.0.weight"].shape == (4, 5)
    assert p["embeddings.1.weight"].shape == (3, 2)
    m = fit(tiny(embedding_dims=1), long_frame().drop(columns="vol"))
    assert m.named_params()["embeddings.0.weight"].shape == (4, 1)


def test_known_categories_change_the_forecast(model):
    a = model.predict(X=future(long_frame(), shop="north"))["y"].to_numpy()
    b = model.predict(X=future(long_frame(), shop="south"))["y"].to_numpy()
    assert not np.allclose(a, b)


def test_unseen_category_reads_the_unknown_row_with_a_warning(model):
    df = long_frame()
    with pytest.warns(UnknownCategoryWarning, match=r"'shop' holds 1 category not "
                      r"seen at fit \('west'\).*reserved 'unknown' row"):
        got = model.predict(X=future(df, shop="west"))
    assert np.isfinite(got["y"]).all()
    # the same forecast as a model whose input is that row's vector: the
    # unknown code indexes the last row, the mean of the others
    fut = model.schema_.check_future(3, future(df, shop="east"))
    assert (fut.X[..., 0] == 0).all()
    with pytest.warns(UnknownCategoryWarning):
        fut = model.schema_.check_future(3, future(df, shop="west"))
    assert (fut.X[..., 0] == 3).all()


def test_unseen_category_at_update_warns_and_advances():
    df = long_frame()
    m = fit(tiny(), df.drop(columns="vol"))
    new = future(df, h=2, shop="west").assign(y=1.0)
    with pytest.warns(UnknownCategoryWarning, match="'west'"):
        m.update(new)
    assert (m.schema_.n_seen == 92).all()


def test_save_load_keeps_categories_and_forecasts(model, tmp_path):
    path = tmp_path / "cat.npz"
    model.save(path)
    back = tsrnn.load(path)
    assert back.schema_.categories == model.schema_.categories
    assert back.schema_.past_names == ("vol",)
    fut = future(long_frame())
    np.testing.assert_array_equal(back.predict(X=fut)["y"], model.predict(X=fut)["y"])


def test_integer_and_pandas_categorical_columns(tmp_path):
    df = long_frame().drop(columns="vol")
    df["shop"] = pd.Categorical(df["shop"],
                                categories=["south", "west", "north", "east"])
    df["tier"] = (df.index % 2).astype("category")  # integer categories
    m = fit(tiny(), df)
    assert m.schema_.categories == {
        "shop": ("south", "north", "east"), "tier": (0, 1),
    }
    path = tmp_path / "m.npz"
    m.save(path)
    assert tsrnn.load(path).schema_.categories == m.schema_.categories
    # "west" was declared but held by no row: no trained vector, so unknown
    fut = future(df, shop="west")
    fut["tier"] = pd.Categorical([0] * len(fut))
    with pytest.warns(UnknownCategoryWarning, match="'west'"):
        m.predict(X=fut)


# ---------------------------------------------------------- past-only covariates
def test_predict_never_reads_past_covariates(model):
    """Leakage: values of a past-only covariate after the origin change nothing."""
    df = long_frame()
    base = model.predict(X=future(df))["y"].to_numpy()
    for vol in (0.0, 1e3, -7.5):
        got = model.predict(X=future(df, vol=vol))["y"].to_numpy()
        np.testing.assert_array_equal(got, base)


def test_past_covariates_are_read_up_to_the_origin():
    df = long_frame()
    m = fit(tiny(past_covariates="vol"), df)
    base = m.predict(X=future(df))["y"].to_numpy()
    assert base.shape == (9,)
    # two copies of one model reading other past values at the last steps
    m2 = fit(tiny(past_covariates="vol"), df.iloc[:-6])
    m3 = fit(tiny(past_covariates="vol"), df.iloc[:-6])
    new = df.iloc[-6:]
    m2.update(new)
    m3.update(new.assign(vol=new["vol"] + 3.0))
    fut = future(df)
    assert not np.allclose(m2.predict(X=fut)["y"], m3.predict(X=fut)["y"])


def test_past_only_model_takes_no_future_X():
    df = long_frame()[["unique_id", "ds", "y", "vol"]]
    m = fit(tiny(past_covariates=["vol"]), df)
    out = m.predict()
    assert len(out) == 9
    # a frame holding the past columns anyway is read without them
    np.testing.assert_array_equal(
        m.predict(X=future(df, vol=5.0).drop(columns="shop"))["y"], out["y"]
    )


def test_wide_arrays_with_past_columns_by_position():
    rng = np.random.default_rng(1)
    y = np.sin(np.arange(100) / 3) + 0.1 * rng.standard_normal(100)
    X = np.column_stack([np.cos(np.arange(100) / 3), rng.standard_normal(100)])
    m = fit(tiny(past_covariates=[1]), y, X)
    assert m.schema_.past_names == ("x1",)
    Xf = np.cos(np.arange(100, 103) / 3)[:, None]
    a = m.predict(X=Xf)
    # the full width is accepted too; its past column is not read
    b = m.predict(X=np.column_stack([Xf[:, 0], [9.0, 9.0, 9.0]]))
    np.testing.assert_array_equal(a, b)


def test_evaluation_helpers_rebuild_categories():
    """score and predict_interval rebuild the user's frames from the codes."""
    df = long_frame()
    m = fit(tiny(past_covariates=["vol"]), df)
    fut = future(df)
    lo_hi = m.predict_interval(X=fut, coverage=0.8)
    assert np.isfinite(lo_hi.iloc[:, 2:].to_numpy(float)).all()
    s = fit(tiny(past_covariates=["vol"]), df.groupby("unique_id").head(80))
    test = df.groupby("unique_id").tail(10)
    assert np.isfinite(s.score(test))


def test_warm_start_reads_the_fitted_categories():
    """A continued fit encodes with the first fit's categories (the tables' rows)."""
    df = long_frame().drop(columns="vol")
    m = fit(tiny(warm_start=True), df)
    first = m.schema_.categories
    part = df.assign(shop=df["shop"].replace("east", "north"))  # no "east"
    fit(m, part)
    assert m.schema_.categories == first
    np.testing.assert_array_equal(
        m.schema_.check_future(3, future(part, shop="south")).X[..., 0], 2
    )
    with pytest.warns(UnknownCategoryWarning, match="'west'"):
        fit(m, df.assign(shop=df["shop"].replace("east", "west")))
    assert m.schema_.categories == first


def test_backtest_with_categorical_and_past_covariates():
    from tsrnn.backtest import backtest

    df = long_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores, fc = backtest(tiny(past_covariates=["vol"], max_iter=2), df,
                              n_origins=2, return_forecasts=True)
    assert len(scores) == 6 and np.isfinite(fc["RNNForecaster"]).all()


def test_recursive_strategy_reads_future_categories():
    """Each recursive step reads the next step's category (embedded, one-hot)."""
    df = long_frame().drop(columns="vol")
    m = fit(tiny(strategy="recursive", id_embedding=True), df)
    a = m.predict(X=future(df, shop="north"))["y"].to_numpy().reshape(3, 3)
    fut = future(df, shop="north")
    fut.loc[fut.groupby("unique_id").cumcount() == 2, "shop"] = "south"
    b = m.predict(X=fut)["y"].to_numpy().reshape(3, 3)
    np.testing.assert_array_equal(a[:, :2], b[:, :2])  # steps before the change
    assert not np.allclose(a[:, 2], b[:, 2])


def test_tampered_categories_in_a_model_file_are_refused(model, tmp_path):
    import io
    import json

    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as z:
        members = {k: z[k] for k in z.files}
    doc = json.loads(members["__metadata__"].tobytes())
    text = json.dumps(doc)
    assert '"east"' in text
    # one category fewer than the embedding table has rows for
    text = text.replace('["east", "north", "south"]', '["north", "south"]')
    members["__metadata__"] = np.frombuffer(text.encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **members)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match=r"cardinalities=\(4, 3\), expected "
                       r"\(3, 3\)"):
        tsrnn.load(bad)


# ------------------------------------------------------------------ X_past
def test_X_past_is_past_covariates_given_apart_long():
    df = long_frame()
    keys = ["unique_id", "ds"]
    a = fit(tiny(past_covariates=["vol"]), df)
    b = fit(tiny(), df.drop(columns="vol"), None, df[keys + ["vol"]])
    assert b.schema_.past_names == ("vol",)
    fut = future(df)
    np.testing.assert_array_equal(a.predict(X=fut)["y"], b.predict(X=fut)["y"])
    # update takes the new rows' past values as X_past too
    new = future(df, h=2, vol=0.5).assign(y=1.0)
    a.update(new)
    b.update(new.drop(columns="vol"), None, new[keys + ["vol"]])
    fut2 = future(df.assign(ds=df["ds"] + pd.Timedelta(days=2)))
    np.testing.assert_array_equal(a.predict(X=fut2)["y"], b.predict(X=fut2)["y"])
    # with a long X for the known covariates
    c = fit(tiny(), df[keys + ["y"]], df[keys + ["shop"]], df[keys + ["vol"]])
    assert c.schema_.past_names == ("vol",) and c.schema_.x_kind == "long"
    assert np.isfinite(c.predict(X=fut)["y"]).all()


def test_X_past_wide_arrays_and_pandas():
    rng = np.random.default_rng(2)
    y = np.sin(np.arange(100) / 3) + 0.1 * rng.standard_normal(100)
    X, P = np.cos(np.arange(100) / 3)[:, None], rng.standard_normal((100, 1))
    a = fit(tiny(past_covariates=[1]), y, np.column_stack([X, P]))
    b = fit(tiny(), y, X, P)
    assert b.schema_.past_names == ("x1",)
    Xf = np.cos(np.arange(100, 103) / 3)[:, None]
    np.testing.assert_array_equal(a.predict(X=Xf), b.predict(X=Xf))
    b.update(np.ones(2), np.zeros((2, 1)), np.ones((2, 1)))
    idx = pd.date_range("2024-01-01", periods=100, freq="h")
    ys, Xs = pd.Series(y, index=idx), pd.DataFrame({"temp": X[:, 0]}, index=idx)
    m = fit(tiny(), ys, Xs, pd.DataFrame({"load": P[:, 0]}, index=idx))
    assert m.schema_.past_names == ("load",)
    assert m.predict(X=pd.DataFrame({"temp": [0.0] * 3}, index=pd.date_range(
        idx[-1] + pd.Timedelta(hours=1), periods=3, freq="h"))).shape == (3,)

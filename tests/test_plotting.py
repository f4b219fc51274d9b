"""Tests of tsrnn.plotting on tiny synthetic inputs (Agg backend, no display)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import tsrnn  # noqa: E402
from tsrnn.plotting import (  # noqa: E402
    plot_forecast,
    plot_gradient_norms,
    plot_loss_curve,
)

H_STEPS = 12


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def series_outputs():
    """History, forecast and interval shaped like a Series fit's outputs."""
    idx = pd.date_range("2024-01-01", periods=60, freq="h")
    y = pd.Series(np.sin(np.arange(60) / 4.0), index=idx, name="load_mw")
    fidx = pd.date_range(idx[-1], periods=H_STEPS + 1, freq="h")[1:]
    f = pd.Series(np.sin(np.arange(60, 60 + H_STEPS) / 4.0), index=fidx, name="load_mw")
    iv = pd.DataFrame({"lower": f - 0.3, "upper": f + 0.3}, index=fidx)
    return y, f, iv


@pytest.fixture
def frame_outputs(series_outputs):
    """Two-target history, forecast and MultiIndex interval (DataFrame fit)."""
    y, f, iv = series_outputs
    Y = pd.DataFrame({"a": y.to_numpy(), "b": 2 * y.to_numpy()}, index=y.index)
    F = pd.DataFrame({"a": f.to_numpy(), "b": 2 * f.to_numpy()}, index=f.index)
    cols = pd.MultiIndex.from_product([["a", "b"], ["lower", "upper"]])
    data = np.c_[iv["lower"], iv["upper"], 2 * iv["lower"], 2 * iv["upper"]]
    IV = pd.DataFrame(data, index=f.index, columns=cols)
    return Y, F, IV


class _Stub:
    """Stand-in for a fitted model: only the attributes the plot reads."""

    def __init__(self, loss, val=None, best=None):
        self.loss_curve_ = loss
        self.validation_scores_ = val
        self.best_validation_score_ = best


def _legend_texts(ax):
    """Texts of the axes' legend, or of the figure legend of a new figure."""
    legend = ax.get_legend()
    if legend is None:
        (legend,) = ax.figure.legends
    return [t.get_text() for t in legend.get_texts()]


# ---------------------------------------------------------------- forecast
def test_forecast_series_with_interval(series_outputs):
    y, f, iv = series_outputs
    ax = plot_forecast(y, f, iv, coverage=0.9, title="Load")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert len(ax.collections) == 1  # the interval band
    assert _legend_texts(ax) == ["history", "forecast", "90% prediction interval"]
    assert ax.get_title() == "Load"
    assert ax.get_ylabel() == "load_mw"
    # the forecast line joins the last observation to the forecast
    assert len(lines[1].get_xdata()) == H_STEPS + 1
    lo, hi = ax.get_xlim()
    x_first = matplotlib.dates.date2num(y.index[0])
    x_last = matplotlib.dates.date2num(f.index[-1])
    assert lo <= x_first + 1e-9 and hi >= x_last - 1e-9


def test_forecast_last_and_coverage_from_attrs(series_outputs):
    y, f, iv = series_outputs
    iv = iv.copy()
    iv.attrs["coverage"] = 0.8
    ax = plot_forecast(y, f, iv, last=10)
    assert len(ax.get_lines()[0].get_xdata()) == 10
    assert "80% prediction interval" in _legend_texts(ax)
    lo, _ = ax.get_xlim()
    assert lo == pytest.approx(matplotlib.dates.date2num(y.index[-10]))


def test_forecast_without_interval_or_coverage(series_outputs):
    y, f, iv = series_outputs
    ax = plot_forecast(y, f)
    assert len(ax.collections) == 0
    assert _legend_texts(ax) == ["history", "forecast"]
    ax = plot_forecast(y, f, iv)
    assert _legend_texts(ax)[-1] == "prediction interval"


def test_forecast_arrays_placed_after_history():
    y = np.cos(np.arange(40) / 3.0)
    f = np.zeros(5)
    ax = plot_forecast(y, f, (f - 1.0, f + 1.0))
    fx = ax.get_lines()[1].get_xdata()
    np.testing.assert_array_equal(fx, np.arange(39, 45))
    assert ax.get_xlim() == (0.0, 44.0)
    assert ax.get_xlabel() == "time step"
    assert len(ax.collections) == 1


def test_forecast_given_ax_is_used(series_outputs):
    y, f, iv = series_outputs
    fig, ax = plt.subplots()
    assert plot_forecast(y, f, iv, ax=ax) is ax
    assert ax.get_legend() is not None and not fig.legends


def test_forecast_interval_shape_mismatch(series_outputs):
    y, f, _ = series_outputs
    with pytest.raises(ValueError, match="forecast"):
        plot_forecast(y, f, (np.zeros(3), np.ones(3)))


def test_forecast_multi_target_subplots(frame_outputs):
    Y, F, IV = frame_outputs
    axes = plot_forecast(Y, F, IV, coverage=0.8, title="Two targets")
    assert len(axes) == 2
    for ax, name in zip(axes, ["a", "b"], strict=True):
        assert len(ax.get_lines()) == 2
        assert len(ax.collections) == 1
        assert ax.get_ylabel() == name
    # one figure legend under the plots, and a figure title
    assert all(a.get_legend() is None for a in axes)
    assert _legend_texts(axes[0]) == ["history", "forecast", "80% prediction interval"]
    assert axes[0].figure.get_suptitle() == "Two targets"
    # band of target b is the b columns
    band = axes[1].collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(IV[("b", "upper")].max())


def test_forecast_multi_target_one_on_ax(frame_outputs):
    Y, F, IV = frame_outputs
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="target="):
        plot_forecast(Y, F, IV, ax=ax)
    out = plot_forecast(Y, F, IV, ax=ax, target="b")
    assert out is ax
    assert ax.get_ylabel() == "b"
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata()[1:], F["b"])


def test_forecast_multi_target_arrays():
    Y = np.ones((30, 3))
    F = np.zeros((4, 3))
    axes = plot_forecast(Y, F, (F - 1, F + 1))
    assert len(axes) == 3
    assert all(len(a.collections) == 1 for a in axes)


# ------------------------------------------------------------- loss curves
def test_loss_curve_with_validation_and_best():
    stub = _Stub([1.0, 0.5, 0.3, 0.25], [-0.9, -0.4, -0.2, -0.3], best=-0.2)
    ax = plot_loss_curve(stub)
    assert len(ax.get_lines()) == 2  # loss + best-epoch vline
    right = ax.right_ax
    assert len(right.get_lines()) == 2  # scores + best marker
    texts = _legend_texts(ax)
    assert texts[0] == "training loss"
    assert texts[1] == "validation MSE (= −score)"
    assert texts[2].startswith("best: epoch 3")
    np.testing.assert_allclose(right.get_lines()[0].get_ydata(), [0.9, 0.4, 0.2, 0.3])
    assert ax.get_xlabel() == "epoch"
    assert "training loss" in ax.get_ylabel()
    assert "validation MSE" in right.get_ylabel()


def test_loss_curve_without_validation():
    for val in (None, []):
        ax = plot_loss_curve(_Stub([3.0, 2.0, 1.0], val))
        assert len(ax.get_lines()) == 1
        assert not hasattr(ax, "right_ax")
        assert _legend_texts(ax) == ["training loss"]
        plt.close("all")


def test_loss_curve_regressor_scores_are_r2():
    RNNRegressor = type("RNNRegressor", (_Stub,), {})
    stub = RNNRegressor([1.0, 0.5, 0.4], [0.2, 0.6, 0.5], best=0.6)
    ax = plot_loss_curve(stub)
    assert ax.right_ax.get_ylabel().startswith("validation R²")
    np.testing.assert_allclose(ax.right_ax.get_lines()[0].get_ydata(), [0.2, 0.6, 0.5])
    assert ax.get_title() == "RNNRegressor training"


def test_loss_curve_log_scale_for_wide_range():
    ax = plot_loss_curve(_Stub(list(10.0 ** -np.arange(6))))
    assert ax.get_yscale() == "log"


def test_loss_curve_unfitted():
    with pytest.raises(ValueError, match="fit"):
        plot_loss_curve(object())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_loss_curve_real_forecaster():
    # early_stopping=False (the old default): one run, one validation score
    model = tsrnn.RNNForecaster(
        hidden_size=4, max_iter=2, random_state=0, early_stopping=False
    )
    model.fit(np.sin(np.arange(300) / 5))
    ax = plot_loss_curve(model)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), model.loss_curve_)
    # one post-training validation score, aligned to the last epoch
    right = ax.right_ax
    np.testing.assert_array_equal(right.get_lines()[0].get_xdata(), [2])
    assert any(t.startswith("best: epoch 2") for t in _legend_texts(ax))
    assert ax.get_title() == "RNNForecaster training"
    gax = plot_gradient_norms(model.dh_norm_)
    assert len(gax.get_lines()) == model.dh_norm_.shape[0]


# --------------------------------------------------------- gradient norms
def test_gradient_norms_1d():
    d = 0.8 ** np.arange(10)[::-1]  # forward order: largest at the end
    ax = plot_gradient_norms(d)
    assert ax.get_yscale() == "log"
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(10)[::-1])
    assert line.get_ydata()[-1] == 1.0  # last step is 0 steps before the end
    assert ax.get_xlabel() == "steps before the end of the window"
    assert ax.get_xlim() == (0.0, 9.0)
    assert ax.get_legend() is None


def test_gradient_norms_layers_and_labels():
    d = np.vstack([np.linspace(1, 2, 8), np.linspace(0.1, 3, 8)])
    ax = plot_gradient_norms(d, labels=["forward", "backward"], log=False)
    assert ax.get_yscale() == "linear"
    assert _legend_texts(ax) == ["forward", "backward"]
    with pytest.raises(ValueError, match="labels"):
        plot_gradient_norms(d, labels=["one"])


def test_gradient_norms_dict_comparison():
    d = {"RNN": 0.5 ** np.arange(6), "LSTM": np.ones((2, 6))}
    ax = plot_gradient_norms(d, title="RNN vs LSTM")
    assert _legend_texts(ax) == ["RNN", "LSTM, layer 0", "LSTM, layer 1"]
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "RNN vs LSTM"


def test_gradient_norms_nn_module():
    rng = np.random.default_rng(0)
    lstm = tsrnn.nn.LSTM(2, 3, num_layers=2, random_state=0)
    x = rng.normal(size=(7, 1, 2))
    out, _ = lstm.forward(x)
    lstm.backward(np.ones_like(out))
    ax = plot_gradient_norms(lstm.dh_norm_)
    assert len(ax.get_lines()) == 2
    assert ax.get_xlim() == (0.0, 6.0)


def test_gradient_norms_bad_inputs():
    with pytest.raises(ValueError, match="log=False"):
        plot_gradient_norms(np.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        plot_gradient_norms(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="empty"):
        plot_gradient_norms({})


# --------------------------------------------------------------- rendering
def test_all_plots_render_to_png(tmp_path, series_outputs, frame_outputs):
    y, f, iv = series_outputs
    figs = {
        "forecast": plot_forecast(y, f, iv, coverage=0.9, last=30).figure,
        "forecast_multi": plot_forecast(*frame_outputs)[0].figure,
        "loss": plot_loss_curve(
            _Stub([1.0, 0.4, 0.2, 0.1], [-0.5, -0.3, -0.2, -0.25], best=-0.2)
        ).figure,
        "grads": plot_gradient_norms(
            {"RNN": 0.7 ** np.arange(20)[::-1], "GRU": 0.95 ** np.arange(20)[::-1]}
        ).figure,
    }
    for name, fig in figs.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=60)
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------ missing mpl
def test_clear_import_error_without_matplotlib(monkeypatch, series_outputs):
    y, f, _ = series_outputs
    for mod in list(sys.modules):
        if mod == "matplotlib" or mod.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, mod, None)
    for func, args in [
        (plot_forecast, (y, f)),
        (plot_loss_curve, (_Stub([1.0]),)),
        (plot_gradient_norms, (np.ones(3),)),
    ]:
        with pytest.raises(ImportError, match=r"pip install matplotlib"):
            func(*args)


def test_several_levels_are_nested_bands():
    y = pd.Series(
        np.sin(np.arange(300) / 5),
        index=pd.date_range("2024-01-01", periods=300, freq="h"),
        name="load",
    )
    from tsrnn import SeasonalNaiveForecaster

    model = SeasonalNaiveForecaster(season_length=24, horizon=12).fit(y)
    bands = model.predict_interval(level=[95, 80, 50])
    ax = plot_forecast(y, model.predict(), bands, last=48)
    labels = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert labels == [
        "history", "forecast", "95% prediction interval",
        "80% prediction interval", "50% prediction interval",
    ]
    polys = ax.collections
    assert len(polys) == 3
    # widest first: each band's vertical extent contains the next one's
    tops = [p.get_paths()[0].vertices[:, 1].max() for p in polys]
    assert tops[0] >= tops[1] >= tops[2]
    assert tops[0] == pytest.approx(bands["load-hi-95"].max())
    import matplotlib.pyplot as plt

    plt.close(ax.figure)

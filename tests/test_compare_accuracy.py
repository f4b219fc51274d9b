"""benchmarks/compare_accuracy.py: the paired bootstrap over series."""

import importlib.util
import json
import os

import numpy as np
import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "compare_accuracy.py")


@pytest.fixture(scope="module")
def ca():
    spec = importlib.util.spec_from_file_location("compare_accuracy", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_identical_models_tie(ca):
    a = {str(i): float(i + 1) for i in range(50)}
    rel, lo, hi, p, n = ca.paired(a, dict(a), 500, np.random.default_rng(0))
    assert (rel, lo, hi, p, n) == (0.0, 0.0, 0.0, 0.0, 50)


def test_uniformly_better_model_always_wins(ca):
    rng = np.random.default_rng(1)
    b = {str(i): float(v) for i, v in enumerate(rng.uniform(0.5, 2.0, 80))}
    a = {u: 0.9 * v for u, v in b.items()}
    rel, lo, hi, p, n = ca.paired(a, b, 500, np.random.default_rng(0))
    assert rel == pytest.approx(-0.1)
    assert lo == pytest.approx(-0.1) and hi == pytest.approx(-0.1)
    assert p == 1.0 and n == 80


def test_bootstrap_interval_against_a_naive_resampling(ca):
    rng = np.random.default_rng(2)
    x, y = rng.gamma(2.0, 1.0, 40), rng.gamma(2.0, 1.0, 40)
    a = {str(i): float(v) for i, v in enumerate(x)}
    b = {str(i): float(v) for i, v in enumerate(y)}
    rel, lo, hi, p, _ = ca.paired(a, b, 2000, np.random.default_rng(3))
    ids = sorted(a)
    xs, ys = np.array([a[u] for u in ids]), np.array([b[u] for u in ids])
    boot = np.random.default_rng(3).integers(0, 40, size=(2000, 40))
    ratios = [xs[i].mean() / ys[i].mean() - 1 for i in boot]
    assert rel == pytest.approx(xs.mean() / ys.mean() - 1)
    assert lo == pytest.approx(np.quantile(ratios, 0.05))
    assert hi == pytest.approx(np.quantile(ratios, 0.95))
    assert p == pytest.approx(np.mean([xs[i].mean() < ys[i].mean() for i in boot]))


def test_reads_records_and_averages_seeds(ca, tmp_path, capsys):
    recs = []
    for seed, scale in ((0, 1.0), (1, 3.0)):
        recs.append(dict(suite="collections", case="g", model="A", seed=seed,
                         per_series={"s1": scale, "s2": 2 * scale}))
    for name, v in (("AutoETS", 2.0), ("AutoTheta", 5.0)):
        recs.append(dict(suite="collections", case="g", model=name, seed=None,
                         per_series={"s1": v, "s2": v}))
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    ca.main([str(path), "--a", "A", "--boot", "100"])
    out = capsys.readouterr().out
    # A averages to s1 2.0, s2 4.0 (mean 3.0) against AutoETS's 2.0: +50 %
    assert "AutoETS" in out and "+50.0%" in out


def test_best_of_two_is_taken_on_each_resample(ca):
    # B1 is better on half the series, B2 on the other half: A (between them
    # everywhere) beats each one's mean but not the better of the two per series
    n = 60
    b1 = {str(i): (1.0 if i % 2 else 3.0) for i in range(n)}
    b2 = {str(i): (3.0 if i % 2 else 1.0) for i in range(n)}
    a = {str(i): 1.9 for i in range(n)}
    rel, lo, hi, p, _ = ca.paired(a, [b1, b2], 300, np.random.default_rng(0))
    assert rel == pytest.approx(1.9 / 2.0 - 1)
    # on a resample the better of the two means is at most 2.0: A wins unless
    # the resample is unbalanced enough; P is between 0 and 1, and below the
    # single comparison's
    p1 = ca.paired(a, b1, 300, np.random.default_rng(0))[3]
    assert 0.0 < p < 1.0 and p <= p1


def test_count_wins_over_groups(ca):
    # three groups: A clearly better in two, clearly worse in one
    recs, n = {}, 40
    for g, factor in (("g1", 0.8), ("g2", 0.7), ("g3", 1.5)):
        b = {str(i): 1.0 + (i % 5) for i in range(n)}
        recs[(g, "AutoETS")] = {None: b}
        recs[(g, "AutoTheta")] = {None: {u: 2 * v for u, v in b.items()}}
        recs[(g, "A")] = {0: {u: factor * v for u, v in b.items()}}
    count, within, groups = ca.count_wins(recs, recs, "A", 0.5, 200, np.random.default_rng(0))
    assert groups == 3
    assert (count == 2).all()  # every resample: the same two groups won
    assert not within.any()  # the third is 50 % behind

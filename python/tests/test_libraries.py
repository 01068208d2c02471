"""Each exporter against its library's own predictions on two real bundled data sets (breast
cancer, wine): zkguard's float reference must reproduce the library's raw scores and decisions,
and the quantized model (what is proved) its decisions. Also the class-label rules (#19)."""

from __future__ import annotations

import numpy as np
import pytest

import zkguard
from zkguard.exporters import UnsupportedModelError, reference

from agreement import rows

# Tree scores are sums of the library's own leaf values (float32 for XGBoost), linear ones a dot
# product in another order: the tolerance covers float32 leaves and summation order.
SCORE_TOLERANCE = {"XGBoost": 1e-5}


@pytest.fixture(scope="module")
def table():
    return rows()


def test_every_library_and_data_set_is_in_the_table(table):
    assert {r.library for r in table} == {"scikit-learn", "XGBoost", "LightGBM", "CatBoost"}
    assert len({r.data for r in table}) == 2


@pytest.mark.parametrize("library", ["scikit-learn", "XGBoost", "LightGBM", "CatBoost"])
def test_float_reference_equals_the_librarys_predictions(table, library):
    for r in (r for r in table if r.library == library):
        assert r.float_vs_library == 1.0, r
        assert r.score_max_abs_diff <= SCORE_TOLERANCE.get(library, 1e-9), r
        assert r.quantized_vs_float >= 0.98 and r.quantized_vs_library >= 0.98, r


def test_lightgbm_and_catboost_with_string_labels_need_positive_class(breast_cancer):
    import catboost
    import lightgbm

    X, y, names = breast_cancer
    labels = np.where(y == 1, "benign", "malignant")  # alphabetical: "benign" is classes_[0]
    for est in (lightgbm.LGBMClassifier(n_estimators=5, max_depth=3, verbose=-1),
                catboost.CatBoostClassifier(iterations=5, depth=3, verbose=0, thread_count=1, allow_writing_files=False)):
        est.fit(X, labels)
        with pytest.raises(ValueError, match=r"class labels \['benign', 'malignant'\].*positive_class="):
            zkguard.export(est, names, name="m")
        model = zkguard.export(est, names, name="m", positive_class="malignant")
        assert model["source"]["positive_class"] == "malignant"
        flagged = reference.scores(model, X) > model["decision"]["threshold"]
        assert np.mean(flagged == (est.predict(X).ravel() == "malignant")) == 1.0
        benign = zkguard.export(est, names, name="m", positive_class="benign")
        assert np.mean((reference.scores(benign, X) > 0) == (est.predict(X).ravel() == "benign")) == 1.0


def test_sklearn_string_labels_need_positive_class_and_it_flags_that_class(breast_cancer):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, names = breast_cancer
    labels = np.where(y == 1, "benign", "malignant")
    for est in (make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
                RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0),
                GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0)):
        est.fit(X, labels)
        with pytest.raises(ValueError, match="positive_class="):
            zkguard.export(est, names, name="m")
        with pytest.raises(ValueError, match="'fraud' is not one of the classifier's classes"):
            zkguard.export(est, names, name="m", positive_class="fraud")
        model = zkguard.export(est, names, name="m", positive_class="malignant")
        assert model["source"]["positive_class"] == "malignant"
        flagged = reference.scores(model, X) > model["decision"]["threshold"]
        assert np.mean(flagged == (est.predict(X) == "malignant")) >= 0.995


def test_unsupported_estimators_are_refused_with_their_names(breast_cancer):
    import lightgbm
    from sklearn.neighbors import KNeighborsClassifier

    X, y, names = breast_cancer
    with pytest.raises(UnsupportedModelError, match="unsupported estimator KNeighborsClassifier"):
        zkguard.export(KNeighborsClassifier().fit(X, y), names, name="m")
    multi = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, np.arange(len(X)) % 3)
    with pytest.raises(UnsupportedModelError, match="LightGBM objective 'multiclass"):
        zkguard.export(multi, names, name="m")
    rng = np.random.RandomState(0)
    noise, coin = rng.randn(3000, 5), rng.randint(0, 2, 3000)  # leaf-wise growth on noise goes deep
    deep = lightgbm.LGBMClassifier(n_estimators=1, num_leaves=1000, max_depth=-1, min_child_samples=1,
                                   min_child_weight=0, verbose=-1).fit(noise, coin)
    with pytest.raises(UnsupportedModelError, match=r"depth \d+; zkguard trees have depth <= 12"):
        zkguard.export(deep, [f"f{i}" for i in range(5)], name="m")
    with pytest.raises(UnsupportedModelError, match="unsupported model builtins.object"):
        zkguard.export(object(), names, name="m")

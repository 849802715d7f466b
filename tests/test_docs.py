"""Every example in helpers.py's docstrings runs and prints what it shows (those that need downloads are marked
``# doctest: +SKIP``)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import helpers

EXAMPLES = [t for t in doctest.DocTestFinder().find(helpers, globs={"np": np, "pd": pd, **vars(helpers)})
            if t.examples]


def test_the_examples_cover_the_public_functions():
    documented = {t.name.rsplit(".", 1)[-1] for t in EXAMPLES}
    for name in ("split_by", "fit_biases", "ranking_metrics", "catalogue_coverage", "check_my_ratings", "rmse_mae",
                 "load_tv_shows", "data_dir", "predict"):
        assert name in documented


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"the example in {test.name} fails"

"""MovieLens 100K's canonical u1–u5 folds (``helpers.canonical_split``) follow GroupLens's ``mku.sh``.

``mku.sh`` builds fold i with ``head -(20000·i) u.data | tail -20000`` for ``u{i}.test`` and the lines before
and after that block for ``u{i}.base``, each then sorted by user and item. The tests replay that recipe on
the lines of ``u.data`` and compare; when GroupLens's own files are in the data cache they are compared too.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from helpers import canonical_split, data_dir, load_movielens_100k

FOLDS = [1, 2, 3, 4, 5]
COLUMNS = ["user_id", "item_id", "rating", "timestamp"]


@pytest.fixture(scope="module")
def ratings():
    return load_movielens_100k(verbose=False)[0]


@pytest.fixture(scope="module")
def u_data(ratings):
    """The lines of u.data, as the loader's ratings frame spells them."""
    return _lines(ratings)


def _lines(frame: pd.DataFrame) -> list[str]:
    return ["\t".join(map(str, row)) for row in frame[COLUMNS].itertuples(index=False)]


def _sorted_like_mku(lines: list[str]) -> list[str]:
    # sort -t"<tab>" -k 1,1n -k 2,2n: numerically by user, then item (lines are unique, so no ties remain)
    return sorted(lines, key=lambda line: tuple(int(field) for field in line.split("\t")[:2]))


def _mku(lines: list[str], fold: int) -> tuple[list[str], list[str]]:
    """mku.sh for one fold, line for line: head/tail on the file, then sort."""
    test = lines[: 20_000 * fold][-20_000:]  # head -(20000·i) u.data | tail -20000
    before = lines[: 20_000 * (fold - 1)]  # head -(20000·(i−1)) u.data
    after = lines[len(lines) - 20_000 * (5 - fold):]  # tail -(20000·(5−i)) u.data (tail -0: nothing)
    return _sorted_like_mku(before + after), _sorted_like_mku(test)


def test_ratings_are_in_u_data_file_order(ratings):
    # The folds are defined by line numbers, so the loader must keep u.data's order: its first lines are these.
    first = ratings[COLUMNS].head(2).to_numpy().tolist()
    assert first == [[196, 242, 3, 881250949], [186, 302, 3, 891717742]]


def _pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["user_id"], frame["item_id"], strict=True))


@pytest.mark.parametrize("fold", FOLDS)
def test_fold_sizes_disjoint_and_complete(ratings, fold):
    base, test = canonical_split(ratings, fold)
    assert (len(base), len(test)) == (80_000, 20_000)
    assert base.index.intersection(test.index).empty
    assert base.index.union(test.index).equals(ratings.index)
    assert not _pairs(base) & _pairs(test), "a (user, movie) pair is in both parts"


@pytest.mark.parametrize("fold", FOLDS)
def test_test_part_is_the_folds_block_of_rows_in_file_order(ratings, fold):
    base, test = canonical_split(ratings, fold)
    block = np.arange(20_000 * (fold - 1), 20_000 * fold)
    pd.testing.assert_frame_equal(test, ratings.iloc[block])
    pd.testing.assert_frame_equal(base, ratings.drop(index=ratings.index[block]))


@pytest.mark.slow
@pytest.mark.parametrize("fold", FOLDS)
def test_matches_mku_sh_line_for_line(ratings, u_data, fold):
    want_base, want_test = _mku(u_data, fold)
    base, test = canonical_split(ratings, fold)
    assert _sorted_like_mku(_lines(test)) == want_test
    assert _sorted_like_mku(_lines(base)) == want_base


def test_the_five_test_parts_partition_the_ratings(ratings):
    tests = [canonical_split(ratings, fold)[1] for fold in FOLDS]
    together = pd.concat(tests)
    assert together.index.is_unique
    pd.testing.assert_frame_equal(together, ratings)


@pytest.mark.parametrize("fold", [0, 6, -1, 1.5, "1", True, None])
def test_bad_fold_raises(ratings, fold):
    with pytest.raises(ValueError, match="fold must be 1, 2, 3, 4 or 5"):
        canonical_split(ratings, fold)


def test_a_shortened_frame_raises(ratings):
    with pytest.raises(ValueError, match="100,000 ratings"):
        canonical_split(ratings.iloc[:99_999], 1)


def _grouplens_file(name: str) -> bytes | None:
    """GroupLens's own ``name`` (e.g. u1.test) from the data cache, or None when only other sources were used."""
    folder = data_dir() / "ml-100k" / name
    if folder.is_file():
        return folder.read_bytes()
    archive = data_dir() / "ml-100k.zip"
    if archive.is_file():
        with zipfile.ZipFile(archive) as zf:
            if f"ml-100k/{name}" in zf.namelist():
                return zf.read(f"ml-100k/{name}")
    return None


@pytest.mark.parametrize("fold", FOLDS)
def test_matches_grouplens_files_when_cached(ratings, fold):
    files = {part: _grouplens_file(f"u{fold}.{part}") for part in ("base", "test")}
    if any(raw is None for raw in files.values()):
        pytest.skip(
            f"GroupLens's u{fold}.base/u{fold}.test are not in the data cache (no ml-100k/ folder or ml-100k.zip: "
            "the ratings came from the RecBole wheel, which ships u.data only); the mku.sh replay checks the "
            "construction instead"
        )
    base, test = canonical_split(ratings, fold)
    for part, mine in (("base", base), ("test", test)):
        theirs = pd.read_csv(io.BytesIO(files[part]), sep="\t", header=None, names=COLUMNS)
        assert _lines(theirs) == _sorted_like_mku(_lines(mine)), f"u{fold}.{part} differs from GroupLens's file"

"""Models on small real data: metrics by hand, exclusions, similar items, splits, the hybrid's blend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from models.base import top_n
from models.content import ContentKNN, content_vectors
from models.factorization import ALS, BPR
from models.hybrid import Hybrid
from models.interactions import Interactions, bm25, log_scaled
from models.item_based import EASE, RP3Beta
from models.metrics import beyond_accuracy, ranking_metrics
from models.popularity import Popularity
from models.splits import random_per_user, temporal_per_user


@pytest.fixture(scope="module")
def hetrec(fixtures) -> Interactions:
    frame = pd.read_csv(fixtures / "lastfm_hetrec2011" / "user_artists.dat", sep="\t")
    return Interactions.from_frame(frame, "userID", "artistID", "weight")


def test_metrics_match_hand_computed_values() -> None:
    # user 0: relevant {1, 3}; ranked [1, 2, 3, ...]: hits at ranks 1 and 3
    # user 1: relevant {9}; no hit in the top 10; user 2 has nothing held out and is left out
    relevant = sp.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 3, 9])), shape=(3, 30))
    recommended = np.array([list(range(1, 21)), list(range(10, 30)), list(range(20))])
    m = ranking_metrics(recommended, relevant)
    dcg = 1 + 1 / np.log2(4)
    idcg = 1 + 1 / np.log2(3)
    assert m["users"] == 2
    assert m["precision@10"] == pytest.approx((2 / 10 + 0) / 2)
    assert m["recall@20"] == pytest.approx((2 / 2 + 0 / 1) / 2)
    assert m["ndcg@10"] == pytest.approx((dcg / idcg + 0) / 2)
    assert m["map@10"] == pytest.approx(((1 / 1 + 2 / 3) / 2 + 0) / 2)
    assert m["hit@10"] == pytest.approx(0.5)


def test_beyond_accuracy_by_hand() -> None:
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [1, 0, 0, 0]], dtype=np.float32))
    vectors = np.eye(4, dtype=np.float32)  # every pair of distinct items is fully dissimilar
    m = beyond_accuracy(np.array([[0, 1], [0, 2]]), train, vectors)
    assert m["coverage"] == pytest.approx(3 / 4)
    assert m["popularity_bias"] == pytest.approx((1 + 0.25 + 1 + 0.25) / 4)
    assert m["novelty"] == pytest.approx((0 + 2 + 0 + 2) / 4)
    assert m["diversity"] == pytest.approx(1.0)


@pytest.mark.parametrize("model", [Popularity(), EASE(l2=10.0, min_users=1), RP3Beta(),
                                   ALS(factors=8, iterations=5, regularization=0.1),
                                   BPR(factors=8, iterations=20)], ids=lambda m: m.name)
def test_recommendations_exclude_seen_and_excluded_items(hetrec, model) -> None:
    matrix = hetrec.matrix
    model.fit(matrix)
    users = np.arange(matrix.shape[0])
    banned = sp.csr_matrix((np.ones(len(users)), (users, np.zeros(len(users), int))), shape=matrix.shape)
    items, scores = model.recommend(users, 10, exclude=banned)
    assert items.shape == (len(users), 10)
    for user, row in zip(users, items):
        assert not set(row) & set(matrix[user].indices), f"{model.name} recommended a seen item"
        assert 0 not in row, f"{model.name} recommended an excluded item"
    assert np.all(np.diff(scores, axis=1) <= 1e-6), "best first"


def test_similar_items_share_listeners(hetrec) -> None:
    """EASE's most similar artist to a user's favourite is played by someone who also plays the favourite."""
    model = EASE(l2=5.0, min_users=1).fit(hetrec.matrix)
    columns = hetrec.matrix.tocsc()
    item = int(np.argmax(np.diff(columns.indptr)))  # the artist most users play
    similar, sims = model.similar_items(item, 3)
    fans = set(columns[:, item].indices)
    assert item not in similar and sims[0] > 0
    assert fans & set(columns[:, similar[0]].indices)


def test_ease_keeps_only_items_with_enough_listeners(hetrec) -> None:
    model = EASE(min_users=2).fit(hetrec.matrix)
    counts = np.diff(hetrec.matrix.tocsc().indptr)
    assert set(model.scored_items) == set(np.flatnonzero(counts >= 2))
    scores = model.scores(np.arange(2))
    dropped = np.setdiff1d(np.arange(len(counts)), model.scored_items)
    assert scores[:, dropped].max() < scores[:, model.scored_items].min()


def test_weightings_damp_heavy_counts(hetrec) -> None:
    raw = hetrec.matrix
    assert log_scaled(raw).data.max() < np.log(raw.data.max()) + 2
    assert bm25(raw).nnz == raw.nnz


def test_random_split_holds_out_a_fifth_per_user(hetrec) -> None:
    train, test = random_per_user(hetrec.matrix, seed=1)
    assert (train + test).nnz == hetrec.matrix.nnz and train.multiply(test).nnz == 0
    for user in range(hetrec.shape[0]):
        total = hetrec.matrix[user].nnz
        if total >= 2:
            assert test[user].nnz == max(1, round(total * 0.2))


def test_temporal_split_keeps_only_new_items_after_the_cut() -> None:
    events = pd.DataFrame({"user": ["a"] * 10, "item": list("xxyyzzxwvu"),
                           "ts": pd.date_range("2024-01-01", periods=10, freq="D")})
    train, test = temporal_per_user(events, test_share=0.3)
    assert train["ts"].max() < test["ts"].min()
    assert set(test["item"]) == {"w", "v", "u"}  # the late replay of x is not a prediction target


def test_content_model_ranks_by_features() -> None:
    frame = pd.DataFrame({"energy": [0.9, 0.85, 0.1, None], "valence": [0.8, 0.75, 0.1, None],
                          "tempo": [128, 126, 70, None], "genre": ["edm", "edm", "ambient", None]})
    vectors = content_vectors(frame)
    assert np.isnan(vectors[3]).all() and not np.isnan(vectors[:3]).any()
    model = ContentKNN(vectors).fit(sp.csr_matrix(np.array([[5, 0, 0, 0]], dtype=np.float32)))
    items, _ = model.recommend(np.array([0]), 3)
    assert items[0][0] == 1, "the track closest to what the listener plays comes first"
    assert list(model.similar_items(0, 1)[0]) == [1]


def test_hybrid_learns_weights_on_validation_and_explains_shares(hetrec) -> None:
    train, validation = random_per_user(hetrec.matrix, seed=3)
    hybrid = Hybrid({"ease": EASE(l2=10.0, min_users=1), "popularity": Popularity()}).fit(train)
    trials = hybrid.fit_weights(validation, grid=(0.0, 1.0), anchor="ease")
    assert len(trials) == 2 and hybrid.weights["ease"] == 1.0
    assert hybrid.weights["popularity"] == max(trials, key=lambda t: t["ndcg@10"])["popularity"]
    items, _ = hybrid.recommend(np.arange(3), 5)
    shares = hybrid.shares(np.arange(3), items)
    total = sum(shares.values())
    assert np.allclose(total[total > 0], 1.0)


def test_top_n_breaks_ties_by_index() -> None:
    items, _ = top_n(np.array([[1.0, 2.0, 2.0, 0.5]]), 3)
    assert items.tolist() == [[1, 2, 0]]


def test_approximate_ranking_agrees_with_exact_and_excludes_seen() -> None:
    """The faiss path (used above 100K items) on a small matrix, forced on: same exclusions, near-exact lists."""
    rng = np.random.default_rng(0)
    matrix = sp.random(400, 3000, density=0.02, format="csr", random_state=1, dtype=np.float32) * 10
    model = ALS(factors=16, iterations=5, regularization=0.1, approximate_above=0).fit(matrix)
    users = np.arange(400)
    banned = sp.csr_matrix((np.ones(400), (users, rng.integers(0, 3000, 400))), shape=matrix.shape)
    approx, _ = model.recommend(users, 20, exclude=banned)
    exact, _ = model._exact(users, 20, (matrix + banned).tocsr())
    for user in users:
        assert not set(approx[user]) & (set(matrix[user].indices) | set(banned[user].indices))
    agreement = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(approx, exact)])
    assert agreement > 0.9

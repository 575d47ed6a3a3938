""""Not interested" as a negative signal (issue 23 item 5): an avoided movie is never
recommended, and movies picked by the same people sink with it."""

import numpy as np

from tests.recommender.test_rec_model import fitted


def test_avoided_movies_are_left_out_and_their_neighbours_sink():
    model, _, (users, _, _) = fitted()
    member = users[0]
    u = model.users.get(member)
    before = model.recommend(member, n=len(model.movies), min_support=0)
    hidden = before[0].movie_id
    after = model.recommend(member, n=len(model.movies), min_support=0, avoid=[hidden])
    assert hidden not in [r.movie_id for r in after]
    penalty = model.avoid_penalty(u, np.array([hidden]))
    W = model._implicit().W
    i = model.movies.get(hidden)
    pulled = np.asarray(W[i].toarray()).ravel()
    assert np.argmax(penalty) == np.argmax(pulled)  # the strongest neighbour sinks most
    # the rank of the hidden movie's strongest neighbour goes down (or it leaves the list)
    near = int(model.movies.ids[np.argmax(pulled)])
    order_before = [r.movie_id for r in before]
    order_after = [r.movie_id for r in after]
    if near in order_before and near in order_after:
        assert order_after.index(near) >= order_before.index(near) - 1
    assert not model.avoid_penalty(u, np.array([-5])).any()  # unknown movie: no effect


def test_pick_dislike_weighs_a_disliked_rating_negative_in_the_pick_rows():
    """``ModelConfig.pick_dislike`` (off by default): a rating at or below ``pick_dislike_at``
    of the scale weighs -pick_dislike in the "will pick" input row, like "not interested"."""
    from dataclasses import replace

    model, _, _ = fitted()
    lo, hi = model.config.scale
    vals = np.array([hi, hi - 1, lo]) / model.config.unit  # loved, liked, disliked (units)
    assert model.blend.pick.liking(vals)[2] == 0.0  # off: clipped at 0, as before
    model.config = replace(model.config, pick_dislike=1.0)
    weights = model.blend.pick.liking(vals)
    assert weights[2] == -1.0 and weights[0] > weights[1] > 0

"""The 'because …' reason on a recommendation reads right for liked and disliked movies."""

from cogs.recommend import reason_text


def test_liked_and_disliked_reasons():
    assert reason_text("Heat (1995)", 9) == "because you rated *Heat (1995)* 9/10"
    assert reason_text("Tangled (2010)", 2) == "because you didn't like *Tangled (2010)* (2/10)"
    assert reason_text("Up (2009)", 5) == "because you rated *Up (2009)* 5/10"

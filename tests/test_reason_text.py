"""The 'because …' reason on a recommendation reads right for liked and disliked movies."""

from cogs.recommend import reason_text


def test_liked_and_disliked_reasons():
    assert reason_text("Heat (1995)", 9) == "because you rated *Heat (1995)* 9/10"
    assert reason_text("Tangled (2010)", 2) == "because you didn't like *Tangled (2010)* (2/10)"
    assert reason_text("Up (2009)", 5) == "because you rated *Up (2009)* 5/10"


def test_pick_lines_mark_stretches_and_say_what_carried_a_pick():
    from bot.domain.models import Movie
    from bot.service import Pick
    from cogs.recommend import CARRIED_BY, STRETCH_NOTE, pick_lines

    movies = {1: Movie(1, "Heat", 1995, ("Crime",)), 2: Movie(2, "Up", 2009, ("Animation",)),
              3: Movie(3, "Alien", 1979, ("Horror",))}
    picks = [Pick(2, 8.4, because=(1, 9)), Pick(3, 5.1, stretch=True, carried_by="pick"),
             Pick(1, 7.0, carried_by="prior")]
    lines, _shown = pick_lines(picks, movies, start=0, personal=True)
    assert lines[0].endswith("because you rated *Heat (1995)* 9/10")
    assert STRETCH_NOTE not in lines[0]
    assert f"({STRETCH_NOTE})" in lines[1] and CARRIED_BY["pick"] in lines[1]
    assert lines[1].endswith("popular with members who share your taste")
    assert lines[2].endswith("close to your taste in the prior")
    group, _ = pick_lines(picks, movies, start=0, personal=True, group=True)
    assert STRETCH_NOTE not in group[1]  # a group score is not one member's average


def test_a_pick_carried_by_the_movies_own_baseline_says_highly_rated():
    """The rating model's part without the member's taste in it (``reasons`` kind "rated")
    reads as what it is, not as "members with your taste rate it highly"."""
    from bot.domain.models import Movie
    from bot.service import Pick
    from cogs.recommend import pick_lines

    movies = {3: Movie(3, "Alien", 1979, ("Horror",))}
    lines, _shown = pick_lines([Pick(3, 7.9, carried_by="rated")], movies, start=0,
                               personal=True)
    assert lines[0].endswith("highly rated") and "your taste" not in lines[0]

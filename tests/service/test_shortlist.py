"""Page rules of /recommend (issue 23 items 3-5): one movie per franchise per page, at most
one stretch per ten picks, varied reasons, never a title twice."""

from bot.service.shortlist import (
    MIN_DISTINCT_REASONS,
    REASON_CAP,
    REASON_WINDOW,
    Candidate,
    assemble_page,
    distinct_reasons,
    franchise_key,
    max_stretches,
    page_reasons,
    reason_key,
)


def test_sequels_and_subtitles_share_a_franchise_key():
    toy = {franchise_key(t) for t in ("Toy Story", "Toy Story 2", "Toy Story 3")}
    assert toy == {"toy story"}
    assert len({franchise_key(t) for t in (
        "Star Wars: Episode IV - A New Hope", "Star Wars: Episode V - The Empire Strikes Back",
        "Star Wars: Episode I - The Phantom Menace")}) == 1
    assert len({franchise_key(t) for t in (
        "Godfather, The", "Godfather: Part II, The", "The Godfather Part III")}) == 1
    assert len({franchise_key(t) for t in (
        "Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the Philosopher's "
        "Stone)", "Harry Potter and the Chamber of Secrets")}) == 1
    assert franchise_key("Rocky IV") == franchise_key("Rocky")
    assert franchise_key("Kill Bill: Vol. 2") == franchise_key("Kill Bill: Vol. 1")
    # different films stay apart
    assert len({franchise_key(t) for t in (
        "Up", "Tokyo Godfathers", "Godfather, The", "Beauty and the Beast", "Alien",
        "Toy Soldiers", "Se7en", "12 Angry Men")}) == 8


def test_one_movie_per_franchise_per_page_the_rest_wait_for_the_next():
    ranked = [Candidate(1, "toy story"), Candidate(2, "toy story"), Candidate(3, "up"),
              Candidate(4, "toy story"), Candidate(5, "heat"), Candidate(6, "alien")]
    first = assemble_page(ranked, 3)
    assert [ranked[i].movie_id for i in first] == [1, 3, 5]
    second = assemble_page(ranked, 3, skip={1, 3, 5})
    assert [ranked[i].movie_id for i in second] == [2, 6]  # one Toy Story per page
    third = assemble_page(ranked, 3, skip={1, 3, 5, 2, 6})
    assert [ranked[i].movie_id for i in third] == [4]


def test_at_most_one_stretch_in_ten_unless_nothing_else_is_left():
    ranked = [Candidate(i, f"f{i}", stretch=i % 2 == 0) for i in range(30)]
    page = assemble_page(ranked, 10)
    assert len(page) == 10
    assert sum(ranked[i].stretch for i in page) == max_stretches(10) == 1
    only = [Candidate(i, f"f{i}", stretch=True) for i in range(4)]
    assert len(assemble_page(only, 4)) == 4  # shown, marked, rather than a short page


def test_a_page_of_ten_shows_at_least_six_reasons_and_no_reason_more_than_twice():
    # the ranking alone would give one reason (movie 900) to the first 8 picks
    ranked = [Candidate(i, f"f{i}", reason=900) for i in range(8)]
    ranked += [Candidate(100 + i, f"g{i}", reason=901 + i) for i in range(10)]
    page = assemble_page(ranked, 10)
    reasons = [ranked[i].reason for i in page]
    assert len(set(reasons)) >= MIN_DISTINCT_REASONS
    assert max(reasons.count(r) for r in set(reasons)) <= REASON_CAP
    assert page == sorted(page)  # still in rank order
    # the top pick is never dropped for variety
    assert page[0] == 0


def test_a_shorter_page_aims_for_reasons_in_proportion():
    """Six in ten: three in five, five in eight. A page of five used to need five different
    reasons: the fourth pick, the second of one loved film's two, gave way to a lower-ranked
    pick with a reason of its own."""
    assert [distinct_reasons(n) for n in (1, 3, 5, 8, 10, 20, 25)] == [1, 2, 3, 5, 6, 6, 6]
    ranked = [Candidate(0, "a", reason=900), Candidate(1, "b", reason=901),
              Candidate(2, "c", reason=902), Candidate(3, "d", reason=900),
              Candidate(4, "e", reason=903), Candidate(5, "f", reason=904)]
    assert assemble_page(ranked, 5) == [0, 1, 2, 3, 4]
    # the cap still holds: a third pick of one reason waits
    capped = [Candidate(i, f"x{i}", reason=900) for i in range(3)]
    capped += [Candidate(10 + i, f"y{i}", reason=901 + i) for i in range(3)]
    assert assemble_page(capped, 5) == [0, 1, 3, 4, 5]


def test_too_few_reasons_relaxes_the_rule_rather_than_shortening_the_page():
    ranked = [Candidate(i, f"f{i}", reason=900 + i % 2) for i in range(12)]
    assert len(assemble_page(ranked, 10)) == 10


def test_shown_titles_are_never_repeated():
    ranked = [Candidate(i, f"f{i}") for i in range(25)]
    seen: set[int] = set()
    for _ in range(3):
        page = [ranked[i].movie_id for i in assemble_page(ranked, 10, skip=seen)]
        assert not seen & set(page)
        seen |= set(page)
    assert seen == set(range(25))


def test_what_carried_a_pick_is_a_reason_of_its_own():
    from bot.service.shortlist import reason_key

    assert reason_key(123, 0) == 123
    assert reason_key(-1, 1) == -3 and reason_key(-1, 2) == -4 and reason_key(-1, 3) == -5
    assert reason_key(-1, 0) == -1
    # three liked movies and two blend parts: five different reasons (of the five a page of
    # eight aims for), none more than twice; the tenth-ranked 903 is not needed for that
    keys = [900, 900, 900, 901, 901, 902, reason_key(-1, 1), reason_key(-1, 1),
            reason_key(-1, 1), reason_key(-1, 3), 903]
    ranked = [Candidate(i, f"f{i}", reason=k) for i, k in enumerate(keys)]
    page = [ranked[i].reason for i in assemble_page(ranked, 8)]
    assert max(page.count(k) for k in set(page)) <= REASON_CAP
    assert len(set(page)) == distinct_reasons(8) == 5 and -1 not in page and 903 not in page
    # a page of ten aims for six: then 903 is taken
    page = [ranked[i].reason for i in assemble_page(ranked, 10)]
    assert len(set(page)) >= 6 and 903 in page


def test_a_rated_movie_behind_every_pick_is_named_up_to_the_cap_then_the_carrier():
    """When one rated movie truly is the largest own-rating contributor to every pick, the
    relaxed page still shows them all; the picks past ``REASON_CAP`` say what carried them
    as a whole (their true carrier), not the same movie again, and not a smaller one."""
    pick, popular = reason_key(-1, 1), reason_key(-1, 4)  # "pick", "popularity"
    ranked = [Candidate(i, f"film {i}", reason=593, carrier=pick if i % 2 else popular)
              for i in range(10)]
    chosen = assemble_page(ranked, 10)
    assert len(chosen) == 10  # the rules relax: the page is full
    shows = page_reasons(ranked, chosen)
    assert shows[:REASON_CAP] == [593] * REASON_CAP
    assert shows[REASON_CAP:] == [ranked[i].carrier for i in chosen[REASON_CAP:]]
    # a pick without a carrier keeps its own reason; other reasons are left alone
    bare = [Candidate(i, f"film {i}", reason=593) for i in range(4)]
    assert page_reasons(bare, [0, 1, 2, 3]) == [593] * 4
    # a member with fewer than MIN_DISTINCT_REASONS ratings: one movie may carry the page
    assert page_reasons(ranked, chosen, vary_reasons=False) == [593] * 10
    mixed = [Candidate(0, "a", reason=1, carrier=pick), Candidate(1, "b", reason=2),
             Candidate(2, "c", reason=popular, carrier=popular)]
    assert page_reasons(mixed, [0, 1, 2]) == [1, 2, popular]


def test_each_reason_rule_can_be_switched_for_measuring_its_cost():
    """``benchmarks/guilds.py --page-rules`` assembles the same ranking with each rule off or
    changed; the defaults are the bot's rules."""
    # movie 900 is the reason for the top 4 picks; 9 other reasons follow
    ranked = [Candidate(i, f"f{i}", reason=900) for i in range(4)]
    ranked += [Candidate(100 + i, f"g{i}", reason=901 + i) for i in range(9)]
    assert assemble_page(ranked, 10) == assemble_page(
        ranked, 10, reason_cap=REASON_CAP, min_distinct=MIN_DISTINCT_REASONS,
        window=REASON_WINDOW)
    assert assemble_page(ranked, 10)[:3] == [0, 1, 4]  # the cap: two picks for movie 900
    assert assemble_page(ranked, 10, reason_cap=3)[:4] == [0, 1, 2, 4]
    assert assemble_page(ranked, 10, reason_cap=99, min_distinct=0) == list(range(10))
    # the minimum alone: 900 may carry 4 picks as long as six reasons still fit
    assert assemble_page(ranked, 10, reason_cap=99)[:4] == [0, 1, 2, 3]
    # a window of 5: the reason rules choose among the first five ranked movies only, the
    # rest of the page comes in rank order, unless that page shows fewer than six reasons
    # (here: 900, 901 and the next picks' own 902-906, ten picks: seven reasons)
    assert assemble_page(ranked, 10, window=5) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    page = assemble_page(ranked, 10, reason_cap=3)
    assert page_reasons(ranked, page, reason_cap=3) == [ranked[i].reason for i in page]
    # with a carrier, a pick past the cap shows it
    carried = [Candidate(i, f"f{i}", reason=900, carrier=reason_key(-1, 1)) for i in range(4)]
    assert page_reasons(carried, [0, 1, 2, 3]) == [900, 900, -3, -3]
    assert page_reasons(carried, [0, 1, 2, 3], reason_cap=3) == [900, 900, 900, -3]


def test_reason_rules_choose_within_the_window_while_the_page_keeps_six_reasons():
    """The reason rules look for picks among the first ``REASON_WINDOW`` ranked movies only
    (reaching far down the ranking for a new reason cost precision: benchmarks/README.md,
    "Round 3: what the page rules cost"); the rest of the page comes in rank order and its
    picks past the cap show what carried them, all true reasons."""
    carriers = [reason_key(-1, k) for k in (1, 3, 4)]
    ranked = [Candidate(i, f"f{i}", reason=900 + i % 3, carrier=carriers[i % 3])
              for i in range(REASON_WINDOW)]
    ranked += [Candidate(100 + i, f"g{i}", reason=910 + i) for i in range(10)]
    page = assemble_page(ranked, 10)
    assert page == list(range(10))  # the top ten, none from beyond the window
    shown = page_reasons(ranked, page)
    assert len(set(shown)) >= MIN_DISTINCT_REASONS
    assert all(k in (ranked[i].reason, ranked[i].carrier) for i, k in zip(page, shown,
                                                                          strict=True))
    # before (no window): the rule reached past the window for new reasons
    before = assemble_page(ranked, 10, window=0)
    assert max(before) >= REASON_WINDOW


def test_reason_rules_reach_past_the_window_when_it_would_show_too_few_reasons():
    # one rated movie behind the first REASON_WINDOW picks, nothing else to say for them
    ranked = [Candidate(i, f"f{i}", reason=900) for i in range(REASON_WINDOW)]
    ranked += [Candidate(100 + i, f"g{i}", reason=901 + i) for i in range(10)]
    page = assemble_page(ranked, 10)
    assert page == assemble_page(ranked, 10, window=0)
    assert page[:REASON_CAP] == [0, 1] and min(page[REASON_CAP:]) >= REASON_WINDOW
    assert len({ranked[i].reason for i in page}) >= MIN_DISTINCT_REASONS

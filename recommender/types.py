"""Public value types of the recommender: ModelConfig, FitReport, Recommendation.

Regularisation rule (documented here because callers tune it per guild):
ratings are first converted to *rating units* of ``(scale_max - scale_min) / 4.5`` (so MovieLens'
0.5-5 scale is 1 unit per star and the bot's 1-10 scale is 2 points per unit). ``reg`` and
``reg_bias`` are the weights of plain L2 penalties in a *sum* of squared errors (the MAP /
Gaussian-prior formulation). The penalty is therefore fixed while the data term grows with the
number of ratings an entity has: a member or movie with n ratings is shrunk towards the baseline
by roughly ``reg / (n + reg)``. One value works from a 5-member guild (everything stays close to the
shrunk means, stable output) to a 100,000-rating guild (well supported rows are barely shrunk),
and on any rating scale.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of :class:`recommender.CFModel` (defaults tuned on ml-latest-small)."""

    features: int = 10
    """Latent features (a taste prior given to ``fit`` brings its own count, which wins)."""
    reg: float = 15.0
    reg_bias: float = 10.0
    maxiter: int = 20
    """CG iterations per convergence window: training runs until a window lowers the cost by
    less than ``tol`` (see ``train.py``)."""
    seed: int = 0
    scale: tuple[float, float] = (1.0, 10.0)
    mean_damping: float = 10.0
    """Shrunk movie mean = (sum of ratings + d * global mean) / (count + d)."""
    min_support: int | None = None
    """Minimum ratings a movie needs to be recommended; None = auto (see ``auto_min_support``)."""
    min_support_fraction: float = 0.01
    """Auto min_support = clip(round(fraction * members), 1, 20)."""
    confidence: float = 3.0
    """Ranking penalty in rating units: score = prediction - confidence / sqrt(support + 1)."""
    init_std: float = 0.1
    precondition: float = 0.0
    """Factor rows are preconditioned by sqrt(precondition * count + reg) (0 = plain CG)."""
    gtol: float = 1e-4
    dtype: str = "float32"
    min_ratings_to_factorise: int = 10
    tol: float = 1e-4
    """Converged when a window of ``maxiter`` CG iterations lowers the cost by less than this
    fraction (or the gradient norm is below ``gtol``)."""
    large_fit: int = 1_000_000
    large_tol: float = 1e-3
    """A cold fit of at least ``large_fit`` ratings counts as converged at ``large_tol``
    instead of ``tol`` (the larger of the two; issue 24 item 5: CG iterations are the cost of
    a big fit). Synthetic guilds (``benchmarks/scale.py``'s data, bot settings, worker
    features, 10% held out): 10^6 ratings 67 -> 41 iterations, held-out RMSE 1.74386 ->
    1.74418 (1-10 scale); 2x10^6 58 -> 40, 1.74643 -> 1.74684 (3e-4: 47, 1.74650). On
    ml-latest-small's cold fits (below the size: unchanged) 1e-3 would have cost RMSE 0.8324
    -> 0.8327."""
    warm_tol: float = 1e-3
    """A fit warm-started from a recent fit of the guild (a refit, or the final fit after the
    reg choice's hold-out fit) counts as converged at this ``tol`` instead (the larger of
    the two), once its gradient norm is down to ``warm_gnorm`` of the start's. Chosen on
    ``evaluate --folds 5 --tune-reg`` (ml-latest-small, issue 24 item 4): at ``tol`` (1e-4,
    as before) the final fit ran 27-38 CG iterations from the hold-out fit, RMSE 0.8467,
    P@10 0.2219; at 1e-3 13-14 iterations, RMSE 0.8467, P@10 0.2220 (every fold within
    0.0005); at 3e-3 RMSE 0.8469. A cold fit never uses it."""
    warm_gnorm: float = 0.1
    """The guard of ``warm_tol``: the looser stop needs the gradient norm at or below this
    fraction of its norm at the warm start (new ratings pull the start away; the fit goes on
    until it has absorbed them). 0.1 and 0.03 stopped at the same iterations on
    ml-latest-small's folds: there the looser tolerance binds."""
    cold_fit_max: int = 10_000
    """Below this many ratings a guild's fit ignores its previous model (``tuning.fit_guild``):
    no warm start, no reused reg choice, so the model is a function of today's ratings alone.
    A warm start or a reused choice made it depend on when earlier fits ran: a reg chosen on
    112 ratings (30: the factors collapsed) was reused at 135, where a cold choice is 1 and
    keeps factors, and zero factors are a stationary point a warm start never leaves. A cold
    tuned fit costs ~0.1 s CPU up to here (ml-latest-small's first 10-60 members, 1.3k-8.8k
    ratings: 0.095-0.10 s cold, 0.06 s warm); larger guilds keep the warm path."""
    exact_fit_max: int = 10_000
    """Below this many ratings the fit's cost and gradient are computed in float64 whatever
    ``dtype`` says (the model's stored arrays keep ``dtype``). Where a guild's factors
    collapse (a flat optimum: small guilds, random-looking ratings) float32 rounding makes
    the cost noisy at the optimum and every CG line search there thrashes before scipy
    stops on "precision loss": ``benchmarks/many_guilds.py``'s guilds of 55 / 1,010 / 2,809
    ratings took 72 / 247 / 101 cost evaluations in float32, 10 / 39 / 39 in float64
    (fit path 15.6 -> 5.3 ms, 149 -> 77 ms, 156 -> 125 ms CPU), the same optimum. On
    ratings with taste structure the two take the same evaluations and float64 costs -5% CPU
    at 5,000 ratings, +5-21% at 2x10^4, +9-34% at 4x10^4 (ml-latest-small's first members;
    ``benchmarks/README.md``, "Small fits in float64"): larger fits keep float32, half the
    memory."""
    max_iterations: int = 2000
    """Hard cap on CG iterations in all."""
    time_budget: float = 30.0
    """Seconds after which a fit stops at the end of its current round, converged or not."""
    ease_lambda: float = 400.0
    """EASE ridge weight λ (absolute, in co-rating counts; see ``implicit.py``)."""
    ease_items: int = 1000
    """EASE solves densely over at most this many (most-rated) movies; others get no weights."""
    ease_topk: int = 100
    """Item-item weights (and co-rating counts) kept per movie: memory O(movies x ease_topk)."""
    blend_pick: float = 1.0
    blend_prior_pick: float = 2.5
    blend_enjoy: float = 0.3
    """Ranking blend. For each member every movie gets up to three scores, each z-scored over
    the guild's movies (mean 0, standard deviation 1, so the weights are comparable):

    - "will pick" (``blend_pick``): the guild's implicit item-item model (EASE on who rated
      what, ``implicit.py``) applied to the member's rated movies (weighted by
      ``pick_rating_weight``);
    - "will pick", prior part (``blend_prior_pick``, only when the fit got a taste prior): the
      prior's item-item weights applied to every movie the member rated, movies the guild
      model does not know included;
    - "will enjoy" (``blend_enjoy``): the rating model's plain prediction.

    rank = blend_pick * z(pick) + blend_prior_pick * z(prior pick) + blend_enjoy * z(enjoy)
    - ``blend_debias`` * z(evidence) (+ ``blend_popularity`` * z(log(1 + support)), off by
    default), then movies under the
    minimum support go last; for members with an established history the rank then adds
    expected enjoyment (``enjoy_*``). Which movies a member rates predicts what they watch next far
    better than predicted stars do (precision@10 on ml-latest-small: "will pick" alone 1.7x
    MostPop, "will enjoy" alone 0.9x), while a little "will enjoy" keeps well-liked movies
    ahead of merely popular ones. Tuned on ml-latest-small only, honestly: folds 1-2 of
    ``vs_surprise.py``'s split and guild draws of ``guilds.py --seed 0`` (the benchmark
    reports seed 1). blend_enjoy 0.3-0.6 were within 0.01 of each other on the full data;
    0.3 was best for 30-100-member guilds without a prior. ``Recommendation.predicted`` (what
    members see) stays the rating model's prediction.

    The prior part's weight is per movie and shrinks with the guild's own evidence
    (``prior_evidence``), and a popularity part carries members with few ratings
    (``pop_cold``). Those values (blend_prior_pick 2.5, prior_evidence 10, pop_cold 100,
    pop_cold_ratings 2, power 2) were fitted on held-out guild simulations: priors built from
    half of ml-latest-small's users (seeds 0 and 1), guilds of 10-200 members and given-n
    newcomers drawn from the other half, plus two folds of the full data (a prior from the
    fold's training ratings); the rule was "never below the no-prior figure at any size or
    history length". With a fixed weight (prior_evidence inf) the full data lost P@10.
    """
    enjoy_like: float = 0.75
    """Expected enjoyment (``blend.ExpectedEnjoyment``): the blend is read as the log-odds
    that a member picks a movie and the ranking adds the log of the chance they rate it at or
    above this fraction of the scale (0.75: 7.75 of 10), so a pick they are expected to dislike
    sinks by what that costs. 0 temperature = off."""
    enjoy_sd: float = 0.93
    """The rating model's error in rating units (held-out RMSE on ml-latest-small guild
    simulations: 1.79-1.92 of 10 = 0.90-0.96 units): the spread of a rating around its
    prediction in P(like)."""
    enjoy_temperature: float = 1.6
    """Blend units per unit of log-odds of "will pick", times the standard deviation of the
    member's ``enjoy_top`` highest blend values: fitted by maximum likelihood of the movies
    members went on to rate (held-out) under a softmax of the blend, in guild simulations of
    10-200 members (1.5-1.7 with a prior, 1.7-2.2 without)."""
    enjoy_top: int = 400
    enjoy_min_ratings: int = 6
    """Expected enjoyment ranks the lists of members with at least this many ratings (an
    established history); with fewer the cold-start blend carries the list."""
    enjoy_without_prior: bool = False
    """Expected enjoyment also without a taste prior. Off: in held-out guild simulations
    (``benchmarks/guilds.py`` seeds 1-2) the guild's rating model alone, predicting from a few
    ratings per movie, cost 30-member guilds 10-15% of their precision@10 this way (the full
    ml-latest-small 1.6%), while with the prior's movie baselines and factors it gained.
    Measured again with the member taste layer (``taste_reg``) in the predictions: still
    1.82 -> 1.62x MostPop at 10 members and 1.49 -> 1.27x at 30 (``guilds.py`` seed 1)."""
    enjoy_members: int = 100
    """Without a taste prior (and ``enjoy_without_prior`` off), expected enjoyment ranks the
    lists of guilds with at least this many members: there the guild's rating model has the
    ratings to say "they will not enjoy it". ``benchmarks/guilds.py`` seeds 1-6 at 200
    members: held-out hits rated 1-2 stars 0.70-1.00x -> 0.53-0.86x MostPop's share on every
    seed, precision@10 -3% to +4% (mean +1%); at 100 members (seeds 3-6) -1.4% to +4%, the
    disliked share lower on 3 of 4 seeds (4 -> 6 hits on the fourth); in smaller guilds it
    cost precision (30 members: 5-15%; benchmarks/README.md, "Round 4")."""
    prior_strength: float = 1.0
    """How far a taste prior's movie baseline and place count for a movie the guild rated: a
    multiplier on their evidence weights (``pc / (pc + mean_damping)`` of the baseline,
    ``pc / (pc + reg)`` of the place, pc the prior's ratings of the movie; the side features
    take the rest). 1: as far as the prior's ratings carry them; 0: the guild's own fit (as
    without a prior) for every movie it rated, while movies nobody in the guild rated keep the
    prior's. With ``tune_reg`` the fit path chooses it per guild from held-out ratings
    (``prior_strength.choose_prior_strength``, ladder ``STRENGTHS`` 0 and 1). Measured: on the
    full ml-latest-small (``evaluate --folds 5 --tune-reg --prior``, a prior learned from the
    very ratings the model trains on, which it would count twice) 0 was chosen on every fold:
    RMSE 0.8508 -> 0.8465 (0.8467 without a prior; with the member taste layer since, 0.8325
    and 0.8327); in ``benchmarks/guilds.py`` simulations
    (30 and 200 members, seed 1), where the prior comes from other people, 1 (figures
    unchanged: RMSE 1.74 / 1.89 with the prior, 1.82 / 1.94 without)."""
    prior_pick_unhelpful: float = 0.5
    """The share of the prior's item-item weight (``blend_prior_pick``) kept where the guild's
    own held-out ratings say the prior's baselines and places add nothing (``prior_strength``
    0); between strengths 0 and 1 in proportion, all of it at 1. Evidence the guild's ratings
    give about the prior as a whole: a prior learned from other people was chosen at strength
    1 in every guild simulation (``benchmarks/guilds.py`` seed 1, 10-200 members and given-n:
    figures identical with this share at 0), while a prior learned from the very ratings the
    guild trains on (``evaluate --prior`` on its own dataset) gets 0 on every fold, and there
    its co-rating weights counted those ratings twice. Full ml-latest-small, 5 folds with the
    prior, share 0 / 0.5 / 1: P@10 0.2247 / 0.2246 / 0.2226 (without a prior 0.2241),
    nDCG@10 0.3110 / 0.3097 / 0.3073 (0.3099), coverage@10 0.0495 / 0.0545 / 0.0579 (a tuned
    EASE 0.0544 at P@10 0.2207), RMSE 0.8325 for each."""
    prior_candidates: bool = True
    """With a taste prior, every movie the prior knows joins the model (a candidate for every
    list) even when nobody in the guild rated it: its baseline, factors and item-item weights
    come from the prior (support 0 in the guild, see ``CFModel.fit``)."""
    prior_evidence: float = 10.0
    """Evidence weighting of the prior's item-item part, per movie: its weight is
    ``blend_prior_pick * prior_evidence / (prior_evidence + guild co-raters)`` where guild
    co-raters is the number of guild members who rated the movie: the guild's own data takes
    over where it says enough (0 = the prior part is off; inf = a fixed weight)."""
    pop_cold: float = 100.0
    """Cold start, per member: a member with n ratings gets a popularity part
    (z(log(1 + guild support)), the guild's MostPop; with a taste prior, the prior's
    neighbours of what they rated mixed with it, see ``pop_cold_base``) of weight
    ``pop_cold * (pop_cold_ratings / (pop_cold_ratings + n)) ** pop_cold_power`` on top of
    ``blend_popularity``: 44 at one rating (the list is that part's, nudged by the rest), 16
    at three, 2.8 at ten, under 0.5 from 27: the member's own signal takes over as ratings
    come in."""
    pop_cold_ratings: float = 2.0
    pop_cold_power: float = 2.0
    pop_cold_base: float = 10.0
    """With a taste prior, what the popularity part ranks for members with few ratings is a
    mixture of two distributions over the movies: the prior's item-item neighbours of the
    movies they rated (their positive EASE scores, scaled to sum to 1) and the guild's
    ratings (each movie's share of them) weighted ``pop_cold_base``. A movie close to what
    they rated comes first unless others are far more watched here: one rating of Spirited
    Away gives Totoro, Princess Mononoke and WALL-E, "because you rated Spirited Away", not
    the server's blockbusters. Fitted on given-n newcomers of held-out guild simulations
    (``benchmarks/guilds.py``'s sampling, seeds 0 and 2, 3 draws each of 100 members): at 10,
    P@10 at one rating 1.07-1.10x MostPop (plain popularity: 1.07-1.08x), at three 1.13-1.20x
    (1.17-1.21x), within the draws' noise, while twice as many picks are the prior's
    neighbours (3.5 of 10 at one rating against 1.6); 8 gave 1.00-1.08x / 1.16-1.24x, 6 and
    below lost P@10. 0 (or no prior): log(1 + guild ratings), plain popularity."""
    pick_lift_full: float = 3.0
    """Evidence weighting of the guild's "will pick" part: at fit time, the part's lift over
    chance at finding held-out ratings (``implicit.pick_lift``) is measured; its weight is
    ``blend_pick * clip((lift - 1) / (pick_lift_full - 1), 0, 1)``: full where who rated what
    says something (every ml-latest-small guild of 10+ members: lift 5 and more), nothing
    where members rate at random (a lift of 1). 0 = always the full weight."""
    pick_lift_items: int = 500
    """The EASE that measures the "will pick" evidence (``implicit.pick_lift``, a second
    solve at every first fit) solves over at most this many most-rated movies (the guild's
    model keeps ``ease_items``): the evidence is a saturating measurement (full at a lift of
    ``pick_lift_full``), and on ml-latest-small guilds of 10-610 members (two draws each)
    the lift was 5.2-80 at 1,000, 500 or 300 movies alike (evidence 1 every time), on
    guilds rating at random 0.1-1.4 at each (evidence 0-0.2, the draws' own spread), while
    the measurement cost 98 -> 47 ms CPU on the full data (issue 24 item 4). Guilds that
    rated fewer movies than this are measured exactly as before."""
    pick_rating_weight: float = 0.5
    """"Will pick" input row weights: 1 + this * (rating - member mean) in rating units (0 =
    the binary rated set; > 0 lets loved movies pull harder than merely seen ones)."""
    prior_rating_weight: float = 0.5
    """The taste prior's input rows (the prior part, and the cold popularity part's
    neighbours): each rated movie weighted 1 + this * (rating - member mean) in rating units,
    >= 0 (``blend.prior_liking``; 0 = the binary rated set). With 0, a member who rated The
    Godfather 3/10 got The Godfather Part II "close to your taste in the prior" in the console
    demo with a prior (gone at 0.5; back at 0.25). guilds.py seeds 1-2, 0.5 vs 0 on the same
    draws: disliked held-out hits 0.85 -> 0.42x and 0.89 -> 0.61x MostPop's at 100/200
    members (seed 1; seed 2 equal), P@10 with the prior mixed within the draws' noise
    (10 members 12.10 -> 11.14x / 5.21 -> 5.34x, 200: 1.90 -> 1.98x / 1.97 -> 1.96x), given
    10 ratings 1.53 -> 1.42x / 1.71 -> 1.64x (benchmarks/README.md, round 3)."""
    pick_dislike: float = 0.0
    """A rating at or below ``pick_dislike_at`` (a fraction of the scale) weighs
    ``-pick_dislike`` in the "will pick" input row (0: such ratings weigh 0, as the liking
    rule clips them), so what the same people picked sinks with a movie the member disliked.
    Off: at 1.0 the served pages of ``guilds.py`` (seed 1, with ``taste_reg``) showed no
    steady gain in disliked hits (100 members without a prior 0.58 -> 0.62x MostPop's share,
    200: 0.87 -> 1.07x; with a prior 0.89 -> 0.76x at 200) and precision@10 fell at 200
    members without a prior (1.64 -> 1.59x MostPop)."""
    pick_dislike_at: float = 0.35
    """0.35 of the scale: 4.15 of 10, so 1-2 stars of 5 (2-4 of 10) count as disliked."""
    seen_weight: float = 0.5
    """A movie the member watched (a linked media account's history) but did not rate, in
    the item-item parts' input row: this fraction of a rating (``blend.py``; in the
    popularity part's cold-start count it counts as one). Below 1, the weight of a movie
    rated at the member's own average: a rating says more than a play. Chosen, not tuned
    (no public dataset has both)."""
    blend_popularity: float = 0.0
    """Optional fourth part: z(log(1 + guild support)), a plain popularity term."""
    blend_debias: float = 1.0
    """Popularity debiasing (``blend.DebiasPart``, issue 23 coverage@10): the blend minus this
    times max(0, 1 - ``debias_members`` / m) (m: the guild's members) times z(evidence), each
    movie's ratings in the guild plus the taste prior's, so the few movies everyone watched do
    not top every list. Its weight on the full ml-latest-small (610 members: 0.51 of this) was
    chosen on inner held-out splits, never the test folds: two splits of folds 1-2's training
    ratings (80/20, the prior from the inner training part; weights 0, 0.27, 0.40, 0.50,
    0.60), the largest whose mean precision@10 with the prior is at least both the weight 0's
    and EASE's on the same splits (0.1318 at 0, 0.1349 at 0.27, 0.1333 at 0.40, 0.1330 at
    0.50, 0.1301 at 0.60; EASE 0.1322; coverage@10 0.037-0.039 -> 0.052-0.055 at 0.50, EASE
    0.045-0.047). Without a prior the same rule gave 0.27. Five folds (``evaluate --folds 5
    --tune-reg``, weight 0.50): P@10 / coverage@10 with the prior 0.2219 / 0.040 at 0 ->
    0.2222 / 0.053 (EASE 0.2207 / 0.054), without 0.2219 / 0.042 -> 0.2222 / 0.058; with the
    member taste layer (``taste_reg``) landed, at 0.51: with the prior 0.2249 / 0.043 ->
    0.2235 / 0.057, without 0.2215 -> 0.2225 / 0.059."""
    debias_members: float = 300.0
    """Guilds of up to this many members get no popularity debiasing (``blend_debias``): in
    ``benchmarks/guilds.py`` simulations (seeds 0-1) a weight that fades in smoothly with the
    guild's size (m / (m + 300), or its square) moved 30-200-member guilds' P@10 by -10% to
    +5% (30 members: 3.56x -> 3.48x MostPop with the prior and 1.21x -> 1.17x without; 200:
    2.02x -> 2.04x), within the draws' noise but mostly down where small, while their
    coverage was not the target; a small guild's lists lean on what is widely watched."""
    similar_shrink: float = 10.0
    """``similar``: similarity is multiplied by n / (n + similar_shrink), n = co-raters."""
    similar_min: float = 0.05
    """``similar`` drops neighbours below this calibrated similarity (returns nothing rather
    than noise)."""
    feature_reg: float = 10.0
    """Ridge weight of the side-feature (genre/year) regressions used for cold movies."""
    taste_reg: float = 2.0
    """The member's own taste in every prediction (``taste.py``): per-member genre/decade
    offsets, a ridge of weight ``taste_reg`` (toward 0) on the member's residuals from the
    rating model. Only with side features (``CFModel.fit``'s ``movie_features``); inf = off."""
    taste_columns: int = 19
    """The side features' columns the member taste layer reads: the first this many (0: all).
    The bot's features (``bot.service.features``) start with the 19 MovieLens genres, then
    the decade: with a handful of ratings a decade column explains a member's residuals more
    cheaply than the genres (one column of weight 1 against a few of 1/n each) and turned
    "loved Up (2009)" into comedies of the 2000s; genres alone are what members recognise."""

    def __post_init__(self) -> None:
        lo, hi = self.scale
        if not hi > lo:
            raise ValueError(f"scale must be (min, max) with max > min, got {self.scale}")
        if self.features < 0 or self.maxiter < 0 or self.max_iterations < 0:
            raise ValueError("features and maxiter must be >= 0")
        if self.reg < 0 or self.reg_bias < 0 or self.mean_damping < 0:
            raise ValueError("reg, reg_bias and mean_damping must be >= 0")
        if self.dtype not in ("float32", "float64"):
            raise ValueError("dtype must be 'float32' or 'float64'")

    @property
    def unit(self) -> float:
        """Size of one internal rating unit on this scale."""
        return (self.scale[1] - self.scale[0]) / 4.5

    def auto_min_support(self, n_users: int) -> int:
        if self.min_support is not None:
            return max(0, int(self.min_support))
        return int(min(20, max(1, round(self.min_support_fraction * n_users))))


@dataclass(frozen=True)
class FitReport:
    """What a fit did: sizes, optimiser iterations, wall seconds and the final cost."""

    n_ratings: int
    n_users: int
    n_movies: int
    iterations: int
    seconds: float
    cost: float
    factorised: bool = True
    stop: str = ""
    """Why training stopped: "tol" / "gtol" (converged), "maxiter" (max_iterations),
    "budget" (time_budget) or "none" (nothing to factorise)."""


@dataclass(frozen=True)
class Recommendation:
    """One recommended movie.

    ``score`` is the conservative estimate on the rating scale: the predicted rating minus a
    small uncertainty penalty for movies with few ratings, clamped to the scale. Lists are
    ordered by the ranking blend (``ModelConfig.blend_*``), which is not on the rating scale.
    ``predicted`` is the plain model prediction (what members see) and ``support`` the number
    of ratings the movie has in the guild.
    """

    movie_id: int
    score: float
    predicted: float = float("nan")
    support: int = 0
    rank: float = float("nan")
    """The ranking blend value the list is sorted by (best first)."""
    stretch: bool = False
    """The rating model expects the member to rate it below their own average rating: a pick
    that is on the list for other reasons (what they pick), shown marked as a stretch."""

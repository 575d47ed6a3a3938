"""GuildModels (bot/service/models.py) apart from the queries, and the services wired by their
constructors (issue 22 item 2): the queries rank on the models they are given, forget
listeners are passed in or subscribed, and one shutdown gate is shared."""

from __future__ import annotations

from bot.service import RecommendationService
from bot.service.app import Services
from bot.service.gate import Gate
from bot.service.models import GuildModels
from tests.service.test_service import GUILD, seed, settings


async def test_guild_models_fit_and_hand_out_a_guild_model_on_their_own(storage, tmp_path):
    await seed(storage, GUILD)
    told: list[int] = []
    models = GuildModels(storage, settings(tmp_path), forget_listeners=[told.append])
    try:
        state = await models.state(GUILD)
        await models.wait_idle(GUILD)
        state = await models.state(GUILD)
        assert state.model is not None and not state.provisional
        assert models.fits_completed == 1 and models.cache.get(GUILD) is state
        await models.forget_guild(GUILD)
        assert told == [GUILD] and models.cache.get(GUILD) is None
    finally:
        await models.close()


async def test_the_queries_rank_on_the_models_they_are_built_with(storage, tmp_path):
    await seed(storage, GUILD)
    models = GuildModels(storage, settings(tmp_path))
    told: list[int] = []
    service = RecommendationService(storage, models.settings, models=models,
                                    forget_listeners=[told.append])
    try:
        picks = await service.recommend(GUILD, 1)
        await service.wait_idle(GUILD)
        assert picks.items and service.models is models and service.pool is models.pool
        assert service.fits_completed == models.fits_completed >= 1
        assert (await models.state(GUILD)).model is await service.model_snapshot(GUILD)
        await service.member_forgotten(GUILD, 3)
        assert told == [GUILD]  # the forget reached the listener given to the constructor
    finally:
        await service.close()


async def test_services_share_the_recommendation_services_gate_and_hear_its_forgets(
        storage, tmp_path):
    gate = Gate()
    recs = RecommendationService(storage, settings(tmp_path), gate=gate)
    services = Services.build(storage, recs.settings, recommendations=recs)
    try:
        assert services.gate is gate and services.recommendations.gate is gate
        assert services.ratings.gate is gate and services.pictures.gate is gate
        services.pictures._cache.put(("taste", GUILD), object())  # type: ignore[arg-type]
        await recs.forget_guild(GUILD)  # the pictures subscribed in their constructor
        assert len(services.pictures._cache) == 0
    finally:
        services.pictures.close()
        services.imports.close()
        await recs.close()

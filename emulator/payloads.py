"""JSON payload builders: the exact shapes Discord sends for users, members, roles, channels,
guilds (GUILD_CREATE), voice states and the application object.

Ids are snowflakes serialised as strings, timestamps are ISO 8601, and every field a real
Discord payload carries is present so discord.py's parsers never hit a missing key.
"""

from __future__ import annotations

from typing import Any

from discord.enums import ChannelType

from .world import Channel, Guild, Member, Role, ScheduledEvent, User, VoiceState, World


def user_payload(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "global_name": user.global_name,
        "discriminator": "0",
        "avatar": None,
        "avatar_decoration_data": None,
        "banner": None,
        "accent_color": None,
        "bot": user.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
        "collectibles": None,
    }


def client_user_payload(user: User) -> dict[str, Any]:
    """``GET /users/@me`` and READY ``user``: the bot's own account."""
    data = user_payload(user)
    data.update(
        {
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
            "premium_type": 0,
            "bio": "",
        }
    )
    return data


def member_payload(
    member: Member, *, with_user: bool = True, channel: Channel | None = None,
    with_permissions: bool = False,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "avatar_decoration_data": None,
        "roles": [str(r.id) for r in member.roles if r.id != member.guild.id],
        "joined_at": member.joined_at,
        "premium_since": None,
        "deaf": member.deaf,
        "mute": member.mute,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if with_user:
        data["user"] = user_payload(member.user)
    if with_permissions:
        data["permissions"] = str(member.guild.permissions_for(member, channel))
    return data


def role_payload(role: Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(role.id),
        "name": role.name,
        "description": None,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": role.hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }
    if role.bot_id is not None:
        data["tags"] = {"bot_id": str(role.bot_id)}
    return data


def channel_payload(channel: Channel) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(channel.id),
        "type": int(channel.type),
        "name": channel.name,
        "position": channel.position,
        "flags": 0,
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel.overwrites
        ],
        "nsfw": channel.nsfw,
    }
    if channel.guild is not None:
        data["guild_id"] = str(channel.guild.id)
    if channel.type in (ChannelType.text.value, ChannelType.news.value, ChannelType.forum.value):
        data.update(
            {
                "topic": channel.topic,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "default_thread_rate_limit_per_user": 0,
                "default_auto_archive_duration": 1440,
            }
        )
    elif channel.type in (ChannelType.voice.value, ChannelType.stage_voice.value):
        data.update(
            {
                "bitrate": channel.bitrate,
                "user_limit": channel.user_limit,
                "rtc_region": None,
                "video_quality_mode": 1,
                "last_message_id": None,
                "rate_limit_per_user": 0,
            }
        )
    return data


def voice_state_payload(state: VoiceState, *, with_member: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "guild_id": str(state.channel.guild.id) if state.channel.guild else None,
        "channel_id": str(state.channel.id),
        "user_id": str(state.member.id),
        "session_id": state.session_id,
        "deaf": state.member.deaf,
        "mute": state.member.mute,
        "self_deaf": state.self_deaf,
        "self_mute": state.self_mute,
        "self_stream": False,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if with_member:
        data["member"] = member_payload(state.member)
    return data


def guild_create_payload(guild: Guild) -> dict[str, Any]:
    """GUILD_CREATE: the full guild, with members, channels and voice states."""
    system_channel = guild.text_channels[0].id if guild.text_channels else None
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": str(system_channel) if system_channel else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_presences": None,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": guild.preferred_locale,
        "nsfw_level": 0,
        "nsfw": False,
        "emojis": [],
        "stickers": [],
        "roles": [role_payload(r) for r in guild.roles.values()],
        "joined_at": guild.joined_at,
        "large": False,
        "unavailable": False,
        "lazy": True,
        "member_count": len(guild.members),
        "members": [member_payload(m) for m in guild.members.values()],
        "channels": [channel_payload(c) for c in guild.channels.values()],
        "voice_states": [voice_state_payload(v) for v in guild.voice_states.values()],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [scheduled_event_payload(e)
                                   for e in guild.scheduled_events.values()],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "application_command_counts": {},
        "incidents_data": None,
        "hub_type": None,
        "latest_onboarding_question_id": None,
        "home_header": None,
        "version": 0,
    }


def application_payload(world: World) -> dict[str, Any]:
    """``GET /oauth2/applications/@me``."""
    return {
        "id": str(world.application_id),
        "name": world.application_name,
        "icon": None,
        "description": "A bot running against the local Discord emulator.",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": user_payload(world.app_owner),
        "team": None,
        "bot": user_payload(world.bot_user),
        "terms_of_service_url": None,
        "privacy_policy_url": None,
        "tags": [],
        "install_params": None,
        "custom_install_url": None,
        "role_connections_verification_url": None,
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(world.guilds),
        "approximate_user_install_count": 0,
        "redirect_uris": [],
        "integration_types_config": {"0": {}},
        "hook": True,
        "is_monetized": False,
        "storefront_available": False,
        "event_webhooks_status": 1,
    }


def resolved_channel_payload(channel: Channel, member: Member | None) -> dict[str, Any]:
    """A channel as it appears in ``data.resolved.channels`` (with the invoker's perms)."""
    data = channel_payload(channel)
    if member is not None and channel.guild is not None:
        data["permissions"] = str(channel.guild.permissions_for(member, channel))
    return data


def scheduled_event_payload(event: ScheduledEvent, *, with_user_count: bool = False
                            ) -> dict[str, Any]:
    """A guild scheduled event object (``user_count`` only when asked ``with_user_count``)."""
    creator = event.guild.world.users.get(event.creator_id)
    data: dict[str, Any] = {
        "id": str(event.id),
        "guild_id": str(event.guild.id),
        "channel_id": str(event.channel_id) if event.channel_id else None,
        "creator_id": str(event.creator_id),
        "name": event.name,
        "description": event.description,
        "scheduled_start_time": event.start,
        "scheduled_end_time": event.end,
        "privacy_level": event.privacy_level,
        "status": int(event.status),
        "entity_type": event.entity_type,
        "entity_id": str(event.channel_id) if event.channel_id else None,
        "entity_metadata": {"location": event.location} if event.location else None,
        "image": event.image,
    }
    if creator is not None:
        data["creator"] = user_payload(creator)
    if with_user_count:
        data["user_count"] = len(event.interested)
    return data

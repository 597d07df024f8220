"""The actors of the model: officers, incidents, posts and residents (Mesa agents)."""

from agents.enums import OfficerState, PostKind, Priority, Tier
from agents.incident import Incident
from agents.officer import Officer
from agents.post import Post
from agents.resident import Resident, ResidentViews

__all__ = [
    "Incident", "Officer", "OfficerState", "Post", "PostKind", "Priority", "Resident",
    "ResidentViews", "Tier",
]

"""The broker's writes go through the shared group commit (``ioc.core.group_writer``)."""

from ioc.core.group_writer import MAX_GROUP, GroupWriter

__all__ = ["MAX_GROUP", "GroupWriter"]

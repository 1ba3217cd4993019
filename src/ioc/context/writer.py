"""The broker's writes go through the shared group commit (``ioc.core.group_writer``)."""

from ioc.core.group_writer import GROUPED, MAX_GROUP, GroupWriter, wait

__all__ = ["GROUPED", "MAX_GROUP", "GroupWriter", "wait"]

from ioc.core.db import Database
from ioc.core.models import Meta


def test_fresh_database_is_writable(database: Database) -> None:
    with database.session() as s:
        s.add(Meta(key="k", value="v"))
    with database.session() as s:
        assert s.get(Meta, "k").value == "v"

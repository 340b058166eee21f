"""Create the database this example reads (run it once).

    python make_db.py                                    # zoo.db, an SQLite file beside the spec
    python make_db.py postgresql://zoo@localhost:5432/zoo  # the same tables in PostgreSQL

It holds the Palmer penguins in two tables: `penguins` (measurements) and
`species` (the label of each penguin), so that the spec shows a query with a
bound parameter and a join done by the database.

With a URL (any SQLAlchemy URL; pip install "automl-yaml[sql]") both tables
are replaced in that database. Leave the password out of the URL: PostgreSQL's
client library reads it from $PGPASSWORD, so it stays out of your shell history.
"""

import sqlite3
import sys
from pathlib import Path

import palmerpenguins

here = Path(__file__).resolve().parent
df = palmerpenguins.load_penguins().reset_index(names="id")


def write_url(url: str) -> str:
    import sqlalchemy as sa

    u = sa.make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")  # psycopg 3, as mlx reads postgresql:// URLs
    engine = sa.create_engine(u)
    with engine.begin() as con:  # one transaction: both tables or neither
        df.drop(columns=["species"]).to_sql("penguins", con, index=False, if_exists="replace")
        df[["id", "species"]].to_sql("species", con, index=False, if_exists="replace")
    engine.dispose()
    return u.render_as_string(hide_password=True)


def write_sqlite() -> Path:
    db = here / "zoo.db"
    tmp = db.with_suffix(".db.tmp")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(tmp) as con:
        df.drop(columns=["species"]).to_sql("penguins", con, index=False)
        df[["id", "species"]].to_sql("species", con, index=False)
    con.close()
    tmp.replace(db)
    return db


if __name__ == "__main__":
    where = write_url(sys.argv[1]) if len(sys.argv) > 1 else write_sqlite()
    print(f"wrote {where} ({len(df)} penguins)")

"""Create zoo.db, the SQLite database this example reads (run it once).

    python make_db.py

It holds the Palmer penguins in two tables: `penguins` (measurements) and
`species` (the label of each penguin), so that the spec shows a query with a
bound parameter and a join done by the database.
"""

import sqlite3
from pathlib import Path

import palmerpenguins

here = Path(__file__).resolve().parent
df = palmerpenguins.load_penguins().reset_index(names="id")
db = here / "zoo.db"
tmp = db.with_suffix(".db.tmp")
tmp.unlink(missing_ok=True)
with sqlite3.connect(tmp) as con:
    df.drop(columns=["species"]).to_sql("penguins", con, index=False)
    df[["id", "species"]].to_sql("species", con, index=False)
con.close()
tmp.replace(db)
print(f"wrote {db} ({len(df)} penguins)")

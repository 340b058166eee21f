"""Reports: the exploratory profile, plots, and the self-contained HTML page helper.

* :mod:`.profile` — :func:`~.profile.profile_frame`, :func:`~.profile.write_profile`;
* :mod:`.html` — :func:`~.html.page` builds one self-contained HTML page;
* :mod:`.plots` — PNG plots (matplotlib, imported on use).

Nothing heavy is imported by this package itself.
"""

__all__ = ["profile", "html", "plots"]

"""The reader of generated declaration bodies: anything but a ``xen`` directive is
an error at the header line it came from."""

from __future__ import annotations

from support.site import failed_probe
from test_site_schedule import _stage


def test_a_stray_line_in_a_body_fails_at_its_header_line(tmp_path, capsys):
    _stage(tmp_path)
    err = failed_probe(tmp_path, "Probe\n=====\n\n.. hp-loc: io/blkif.h:10\n\n"
                       ".. xen:definitions::\n\n   .. xen:prose::\n\n      |Fine.\n\n"
                       "   stray text\n", capsys)
    assert ("/src/xen/include/public/io/blkif.h:17: a generated declaration body holds "
            "only xen directives, not 'stray text'") in err, err

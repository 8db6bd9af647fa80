"""The reader of generated declaration bodies: anything but a ``xen`` directive is
an error at the header line it came from."""

from __future__ import annotations

from test_site_schedule import _stage

from headerparse.site.sphinxrun import sphinx


def test_a_stray_line_in_a_body_fails_at_its_header_line(tmp_path, capsys):
    _stage(tmp_path)
    page = tmp_path / ".staging" / "src" / "probe.hrst"
    page.write_text("Probe\n=====\n\n.. hp-loc: io/blkif.h:10\n\n.. xen:definitions::\n\n"
                    "   .. xen:prose::\n\n      |Fine.\n\n   stray text\n")
    assert not sphinx(tmp_path, jobs="1", strict=True, quiet=True,
                      header_root="/src/xen/include/public")
    err = capsys.readouterr().err
    assert ("/src/xen/include/public/io/blkif.h:17: a generated declaration body holds "
            "only xen directives, not 'stray text'") in err, err

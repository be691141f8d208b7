"""VITRINA_WEBAPP__PHOTO_HOSTS as an owner meets it: a malformed host stops start-up with one line, and a
menu whose https photos come from a host not listed is imported with a warning that the Mini App will not
show those photos until the host is listed (its CSP allows photos only from the listed hosts)."""
from __future__ import annotations

import pytest
from cli import vitrina

from bot.settings import SettingsError, load_settings

pytestmark = pytest.mark.slow  # the CLI as a process

MENU = """category,name,price,photo
Кофе,Капучино,250,https://cdn.example/cappuccino.jpg
Кофе,Латте,270,https://a.img.example/latte.jpg
Кофе,Раф,300,https://img.example/raf.jpg
Выпечка,Круассан,180,https://other.example:8443/croissant.jpg
Выпечка,Маффин,150,/photos/muffin.svg
Выпечка,Эклер,160,https://CDN.example/eclair.jpg
"""


@pytest.mark.parametrize("value", ["https://cdn.example", "*", "*.*.example", "cdn.*.example", "cdn.example/photos",
                                   "cdn.example;script-src", "'self'", "cdn example", "*.", "data:",
                                   "cdn.example,'unsafe-inline'", "cdn.example:https", "-cdn.example",
                                   "\"cdn.example\""])
def test_a_malformed_photo_host_stops_start_up_with_one_line(tmp_path, value):
    result = vitrina(tmp_path, "db", "migrate", check=False, VITRINA_WEBAPP__PHOTO_HOSTS=value)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "setting VITRINA_WEBAPP__PHOTO_HOSTS: " in lines[0] and "not a host" in lines[0], lines
    assert not (tmp_path / "vitrina.db").exists()


def test_photo_hosts_become_https_sources():
    settings = load_settings(webapp={"photo_hosts": " CDN.example, *.img.example ,, shop.example:8443"})
    assert settings.webapp.photo_sources == ("https://cdn.example", "https://*.img.example",
                                             "https://shop.example:8443")
    assert load_settings().webapp.photo_sources == ()
    with pytest.raises(SettingsError, match="VITRINA_WEBAPP__PHOTO_HOSTS"):
        load_settings(webapp={"photo_hosts": "cdn.example; img-src *"})


def test_importing_photos_from_an_unlisted_host_warns(tmp_path):
    (tmp_path / "menu.csv").write_text(MENU, encoding="utf-8")
    result = vitrina(tmp_path, "menu", "import", "menu.csv", VITRINA_WEBAPP__PHOTO_HOSTS="cdn.example,*.img.example")
    assert "imported 6 items" in result.stdout
    warnings = result.stderr.strip().splitlines()
    # *.img.example covers a.img.example but not img.example itself (as in CSP); a port is part of the host
    assert warnings == [
        "warning: photos from img.example (raf) will not show in the Mini App until the host is listed in "
        "VITRINA_WEBAPP__PHOTO_HOSTS",
        "warning: photos from other.example:8443 (kruassan) will not show in the Mini App until the host is "
        "listed in VITRINA_WEBAPP__PHOTO_HOSTS"]

    listed = vitrina(tmp_path, "menu", "import", "menu.csv",
                     VITRINA_WEBAPP__PHOTO_HOSTS="cdn.example,*.img.example,img.example,other.example:8443")
    assert "imported 6 items" in listed.stdout and listed.stderr.strip() == ""

import pytest


@pytest.mark.django_db
def test_it_speaks_chinese_by_default(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "质量强市数字化平台" in html


@pytest.mark.django_db
def test_it_speaks_english_through_gettext_when_asked(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Quality City Digital Platform" in html
    assert "质量强市数字化平台" not in html


@pytest.mark.django_db
def test_a_missing_page_says_so_in_chinese(client, personas):
    client.force_login(personas["nongye"])
    response = client.get("/plans/999999/")
    assert response.status_code == 404
    assert "页面不存在或无权访问" in response.content.decode()


def test_the_english_catalogue_is_complete():
    import re
    from pathlib import Path

    po = (Path(__file__).resolve().parents[2] / "qcity/locale/en/LC_MESSAGES/django.po").read_text(
        encoding="utf-8"
    )
    assert "#, fuzzy" not in po
    untranslated = []
    for block in po.split("\n\n")[1:]:  # the first block is the header
        msgid = re.search(r'^msgid "(.*)"', block, re.M)
        # A msgstr may continue on following quoted lines; join them before judging.
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        text = "".join(re.findall(r'"(.*)"', msgstr.group(1))) if msgstr else ""
        if msgid and not text:
            untranslated.append(msgid.group(1))
    assert untranslated == []

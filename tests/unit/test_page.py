"""The self-service page (`GET /`, src/rulebook/apps/web/index.html) in headless Chromium, against the real service.

`rulebook serve` runs as a subprocess on a free port; Selenium drives Debian's chromium with its
chromedriver (CHROME_BIN / CHROMEDRIVER override the paths). Without them the browser tests are
skipped with a message saying how to install them (`apt-get install chromium chromium-driver`);
.ci/run installs both and sets RULEBOOK_BROWSER_TESTS=required, which turns such a skip into a
failure. Screenshots of a verdict go to /tmp/page-ja.png and /tmp/page-phone.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import resources
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PAGE = resources.files("rulebook.apps").joinpath("web").joinpath("index.html")
WAIT = 15  # seconds for anything the page does


def _example(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------ without a browser


def test_page_is_self_contained():
    """Nothing in the page comes from elsewhere: no external script, style, font, image or link."""
    html = PAGE.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"@import|@font-face|url\(", html, re.I)
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|<iframe|<img", html, re.I)
    assert "connect-src 'self'" in html  # the page's own Content-Security-Policy keeps it so


def test_page_holds_no_word_list_of_its_own(book):
    """Statuses, verdicts, amounts, stages and values are shown in the rulebook's one vocabulary,
    which the service puts into the page: the page's script has none of those words."""
    from rulebook.apps.service import _page

    script = PAGE.read_text(encoding="utf-8")
    # (The labels of the form's fields are another table: a stage and a record may share a name.)
    fields = script[script.index("  var FIELDS = {"):]
    own = script.replace(fields[:fields.index("};") + 2], "")
    vocabulary = book.vocabulary()
    words = [w for lang in ("ja", "en") for kind in ("status", "verdict", "amount", "stage", "value")
             for w in (vocabulary[lang][kind].values() if kind != "value" else
                       [x for labels in vocabulary[lang]["value"].values() for x in labels.values()])
             if len(w) > 3 and not w.isascii()]
    assert words and [w for w in words if w in own] == []
    served = _page(vocabulary)
    slot = served[served.index('<script id="vocabulary" type="application/json">'):]
    data = json.loads(slot[slot.index(">") + 1:slot.index("</script>")])
    assert data == json.loads(json.dumps(vocabulary)) and data["ja"]["status"]["not_applicable"] == "該当なし"
    # A text cannot close the script element it is in.
    hostile = _page({"ja": {"x": "</script><script>alert(1)</script>"}})
    assert hostile.count("</script>") == script.count("</script>")


def test_page_puts_server_data_in_as_text_only():
    """No innerHTML/outerHTML/insertAdjacentHTML/document.write: server data go in as text."""
    html = PAGE.read_text(encoding="utf-8")
    script = html[html.index("<script>"):]
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", script)


@pytest.mark.parametrize("required", [False, True], ids=["locally", "in-ci"])
def test_a_missing_chromedriver_skips_saying_how_to_install_it_or_fails_where_required(required, tmp_path,
                                                                                      monkeypatch):
    """Chromium may be there without its driver: locally the browser tests skip with the command
    that installs both; where .ci/run requires them (RULEBOOK_BROWSER_TESTS=required), they fail."""
    monkeypatch.setenv("CHROMEDRIVER", str(tmp_path / "no-chromedriver"))
    monkeypatch.setenv("CHROME_BIN", sys.executable)  # any file that exists: the browser is "there"
    if required:
        monkeypatch.setenv(REQUIRED, "required")
    else:
        monkeypatch.delenv(REQUIRED, raising=False)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome) as stopped:
        _browser_paths()
    assert "chromedriver not installed: apt-get install chromium chromium-driver" in str(stopped.value)
    assert "chromium and" not in str(stopped.value)  # only what is missing is named


# ------------------------------------------------------------------ the service and the browser


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(_private_cache, tmp_path_factory):
    """`rulebook serve` on a free port; its origin, once /healthz answers."""
    port = _free_port()
    script = Path(sys.executable).with_name("rulebook")
    command = ([str(script)] if script.exists()
               else [sys.executable, "-c", "from rulebook.apps.cli import main; main()"])
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([*command, "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"rulebook serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(origin + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"rulebook serve did not answer on {origin}:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield origin
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _browser_paths() -> tuple[str, str]:
    def first(env: str, *candidates: str | None) -> str | None:
        paths = [os.environ[env]] if os.environ.get(env) else list(candidates)
        return next((p for p in paths if p and os.path.exists(p)), None)

    chrome = first("CHROME_BIN", "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                   shutil.which("google-chrome"))
    driver = first("CHROMEDRIVER", "/usr/bin/chromedriver", shutil.which("chromedriver"))
    missing = [name for name, path in (("chromium", chrome), ("chromedriver", driver)) if not path]
    if missing:
        _cannot_run(f"{' and '.join(missing)} not installed: apt-get install chromium chromium-driver "
                    "(or set CHROME_BIN and CHROMEDRIVER to their paths)")
    return chrome, driver


REQUIRED = "RULEBOOK_BROWSER_TESTS"  # "required": a browser test that cannot run fails (.ci/run sets it)


def _cannot_run(why: str):
    """Skip the browser tests, saying how to get what is missing, or fail them where they are
    required: where .ci/run installed the browser, a browser test that cannot run is a failure."""
    if os.environ.get(REQUIRED) == "required":
        pytest.fail(f"the page's browser tests cannot run ({REQUIRED}=required): {why}", pytrace=False)
    pytest.skip(f"the page's browser tests need a browser: {why}")


@pytest.fixture(scope="module")
def driver():
    chrome, chromedriver = _browser_paths()
    try:
        from selenium import webdriver
    except ImportError:
        _cannot_run("selenium is not installed (make setup installs it: pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rulebook-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--lang=ja", "--window-size=1280,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    browser.set_page_load_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(driver, server):
    """The page, freshly loaded, in Japanese, at desktop size."""
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.get(server + "/")
    driver.execute_script("localStorage.clear()")
    driver.get(server + "/")
    driver.get_log("performance")  # forget the requests so far
    return driver


# ------------------------------------------------------------------ helpers


def _wait(driver, condition, what: str):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page rebuilds the verdict when an answer comes: an element found just before may be gone.
    return WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(lambda d: condition(d), message=f"waited for {what}")


def _q(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def _qq(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _paste_and_check(driver, text: str, as_of: str = ""):
    """Put the text in #snapshot as a paste would (an input event), set the judging day, press 確認する."""
    driver.execute_script(
        "const a = document.getElementById('snapshot'); a.value = arguments[0];"
        "a.dispatchEvent(new Event('input', {bubbles: true}));"
        "document.getElementById('as-of').value = arguments[1];", text, as_of)
    _q(driver, "#check").click()


def _verdict(driver) -> str:
    """Waits for a verdict on the page and gives its name (eligible, incomplete, ineligible)."""
    _wait(driver, lambda d: _q(d, "#verdict").is_displayed() and _q(d, "#verdict").get_attribute("data-verdict"),
          "a verdict")
    return _q(driver, "#verdict").get_attribute("data-verdict")


def _set(driver, element, value):
    """Sets an input's value as typing would (dates too, whatever the browser's date format)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)


def _screenshot(driver, path: str, width: int, mobile: bool):
    """A screenshot of the whole page at this width."""
    height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": min(max(height, 600), 12000), "deviceScaleFactor": 1,
                            "mobile": mobile})
    driver.save_screenshot(path)


def _check_requests(driver) -> list[str]:
    return [e["name"] for e in driver.execute_script("return performance.getEntriesByType('resource')")
            if "/v1/check" in e["name"]]


# ------------------------------------------------------------------ in the browser


def test_worked_example_is_eligible(page):
    _paste_and_check(page, _example("seed-case.yaml"))
    assert _verdict(page) == "eligible"
    assert "謝金対象" in _q(page, "#verdict-label").text
    assert "すべての要件を満たしています" in _q(page, "#verdict-label").text
    assert "140,000円" in _q(page, "#honorarium-due").text
    assert "140,000円" in _q(page, "#honorarium-at-stake").text
    assert "188,000円" in _q(page, "#expert-total").text
    assert "SEED-EXAMPLE" in _q(page, "#case-line").text and "2021年3月31日" in _q(page, "#case-line").text
    assert "期限のある未完了の要件はありません" in _q(page, "#next-due").text
    assert "対応が必要な要件はありません" in _q(page, "#todo").text
    results = _qq(page, ".result")
    assert len(results) == 26
    assert {r.get_attribute("data-status") for r in results} == {"pass", "not_applicable"}
    assert not _q(page, "#errors").is_displayed()
    # The source sentence is there, folded.
    first = results[0]
    source = first.find_element("css selector", "details.source")
    assert source.get_attribute("open") is None
    assert "ランサーズ" in source.get_attribute("textContent")
    _screenshot(page, "/tmp/page-ja.png", 1280, mobile=False)


def test_failing_case_shows_the_failed_rule_and_its_fix(page, book):
    text = _example("failing-case.yaml")
    expected = {(r["rule"], r["subject"]): r for r in book.judge(yaml.safe_load(text))["results"]}
    _paste_and_check(page, text)
    assert _verdict(page) == "ineligible"
    assert "謝金対象外" in _q(page, "#verdict-label").text
    rule = _q(page, '#todo .result[data-rule="sme.registration"]')
    assert rule.get_attribute("data-status") == "fail"
    assert "✗ 不適合" in rule.text  # the status is said in words, not only in colour
    assert expected[("sme.registration", "case")]["fix"]["ja"] in rule.text
    assert expected[("sme.registration", "case")]["title"]["ja"] in rule.text
    # Failures first: every failed requirement comes before every passed one, in stage order.
    statuses = [r.get_attribute("data-status") for r in _qq(page, ".result")]
    assert statuses[:7] == ["fail"] * 7 and "fail" not in statuses[7:]
    stages = [s.get_attribute("data-stage") for s in _qq(page, "#todo section.stage")]
    assert stages == ["registration", "support", "claim"]
    step2 = _q(page, '.result[data-rule="step.client-share"][data-subject="step:2"]')
    assert "ステップ2" in step2.text and "不適合" in step2.text
    # Money held back is said in words.
    assert "0円" in _q(page, "#honorarium-due").text
    assert "175,000円" in _q(page, "#honorarium-due").text and "支払われません" in _q(page, "#honorarium-due").text


def test_language_toggle_switches_everything_without_asking_again(page, book):
    text = _example("failing-case.yaml")
    expected = {(r["rule"], r["subject"]): r for r in book.judge(yaml.safe_load(text))["results"]}
    _paste_and_check(page, text)
    _verdict(page)
    asked = len(_check_requests(page))
    toggle = _q(page, "#lang-toggle")
    assert toggle.text == "English"
    toggle.click()
    assert page.execute_script("return document.documentElement.lang") == "en"
    assert _q(page, "#lang-toggle").text == "日本語"
    assert "ineligible" in _q(page, "#verdict-label").text
    assert _q(page, "#check").text == "Check"
    rule = _q(page, '.result[data-rule="sme.registration"]')
    registration = expected[("sme.registration", "case")]
    for part in (registration["title"]["en"], registration["message"]["en"], registration["fix"]["en"], "failed"):
        assert part in rule.text
    assert "175,000 yen" in _q(page, "#honorarium-due").text
    assert "Honorarium due" in _q(page, "#honorarium-due").text
    assert "Registration" in _q(page, '#todo section.stage[data-stage="registration"] h4').text
    assert "中小企業" not in _q(page, "#results").text.replace("中小企業登録", "")  # no Japanese label left
    assert len(_check_requests(page)) == asked  # switched without asking the server again
    # The eligible case reads "eligible" in English; the choice of language is kept.
    _paste_and_check(page, _example("seed-case.yaml"))
    _wait(page, lambda d: _q(d, "#verdict").get_attribute("data-verdict") == "eligible", "the eligible verdict")
    assert "eligible" in _q(page, "#verdict-label").text.lower()
    assert "188,000 yen" in _q(page, "#expert-total").text
    _q(page, "#lang-toggle").click()
    assert "謝金対象" in _q(page, "#verdict-label").text
    assert _q(page, "#check").text == "確認する"


def test_loaded_file_is_checked_and_shows_the_next_deadline_and_days_left(page):
    _q(page, "#file").send_keys(str(EXAMPLES / "pending-case.yaml"))  # loading a file checks it at once
    assert _verdict(page) == "incomplete"
    assert "case_id: C-2021-0077" in _q(page, "#snapshot").get_attribute("value")
    assert "未確定" in _q(page, "#verdict-label").text
    due = _q(page, "#next-due")
    assert due.get_attribute("data-due") == "2021-02-18" and due.get_attribute("data-days-left") == "8"
    assert "2021年2月18日" in due.text and "あと8日" in due.text and "ステップ1" in due.text
    # Judged on another day, the days left count from that day.
    _paste_and_check(page, _example("pending-case.yaml"), as_of="2021-02-15")
    _wait(page, lambda d: _q(d, "#next-due").get_attribute("data-days-left") == "3", "the verdict as of 2021-02-15")
    assert "あと3日" in _q(page, "#next-due").text and "2021年2月15日" in _q(page, "#case-line").text
    # After the last day, the report is late: a failure; the next deadline is the program period's last day.
    _paste_and_check(page, _example("pending-case.yaml"), as_of="2021-02-20")
    _wait(page, lambda d: _q(d, "#verdict").get_attribute("data-verdict") == "ineligible", "the verdict as of 2021-02-20")
    assert _q(page, "#next-due").get_attribute("data-due") == "2021-02-28"
    assert "事業期間内の支援報告書" in _q(page, "#next-due").text
    # After the period's last day too, the case's own 6 months are what is left.
    _paste_and_check(page, _example("pending-case.yaml"), as_of="2021-03-01")
    _wait(page, lambda d: _q(d, "#next-due").get_attribute("data-due") == "2021-07-20", "the verdict as of 2021-03-01")
    assert "支援の期間" in _q(page, "#next-due").text


def test_invalid_input_shows_each_error_with_path_message_and_value(page):
    from selenium.webdriver.common.keys import Keys

    area = _q(page, "#snapshot")
    area.send_keys("これは: [スナップショットではない")
    area.send_keys(Keys.TAB)
    _q(page, "#check").click()
    _wait(page, lambda d: _q(d, "#errors").is_displayed(), "the errors")
    assert "入力エラー" in _q(page, "#errors").text
    assert _qq(page, "#errors .error")
    assert "YAML として読めません" in _q(page, "#errors").text  # the message in the page's language
    assert "(スナップショット全体)" in _q(page, "#errors .error-path").text  # an error of no one field
    assert not _q(page, "#verdict").is_displayed()
    # A snapshot with wrong fields: every error with its path, message and value.
    _paste_and_check(page, "format: rulebook.case/v1\ncase_id: BAD-1\nas_of: '2021-13-01'\nsteps:\n  - hours: -1\n")
    _wait(page, lambda d: _qq(d, '#errors .error[data-path="as_of"]'), "the error on as_of")
    error = _q(page, '#errors .error[data-path="as_of"]')
    assert "as_of" in error.text and "YYYY-MM-DD" in error.text and '"2021-13-01"' in error.text
    hours = _q(page, '#errors .error[data-path="steps[0].hours"]')
    assert "steps[0].hours" in hours.text and "-1" in hours.text
    assert "ステップ1 › 支援時間" in hours.text  # the path in words too
    assert "BAD-1" in _q(page, "#errors").text
    paths = {e.get_attribute("data-path") for e in _qq(page, "#errors .error")}
    assert {"lancers", "sme", "expert"} <= paths
    # JSON is sent as JSON.
    _paste_and_check(page, '{"format": "rulebook.case/v1", "case_id": "J"}')
    _wait(page, lambda d: _qq(d, '#errors .error[data-path="as_of"]') and "J" in _q(d, "#errors").text, "JSON errors")
    # Nothing pasted: said so, without asking the server.
    asked = len(_check_requests(page))
    _paste_and_check(page, "   ")
    _wait(page, lambda d: "貼り付け欄が空です" in _q(d, "#errors").text, "the empty-input message")
    assert len(_check_requests(page)) == asked


def test_page_requests_nothing_outside_the_server(page, server):
    _paste_and_check(page, _example("failing-case.yaml"))
    _verdict(page)
    for details in _qq(page, "details"):
        page.execute_script("arguments[0].open = true", details)
    _q(page, "#tab-form").click()
    _wait(page, lambda d: _qq(d, "#case-form input"), "the form")
    names = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(n.startswith(server + "/v1/check") for n in names)
    assert any(n.startswith(server + "/v1/schema") for n in names)
    assert all(n.startswith(server + "/") for n in names), names
    # And the browser's own log of every request (the page itself included) agrees.
    urls = [m["params"]["request"]["url"] for m in (json.loads(e["message"])["message"]
                                                    for e in page.get_log("performance"))
            if m["method"] == "Network.requestWillBeSent"]
    assert all(u.startswith(server + "/") or u.startswith("data:") for u in urls), urls


def test_form_built_from_the_schema_gives_a_verdict(page, book):
    _q(page, "#tab-form").click()
    _wait(page, lambda d: _qq(d, "#case-form input[name='case_id']"), "the form")
    form = _q(page, "#case-form")
    # Built from the schema: dates, numbers, checkboxes, nested fieldsets, one step with two photos.
    assert _q(form, "input[name='as_of']").get_attribute("type") == "date"
    assert _q(form, "input[name='sme.terms_agreed']").get_attribute("type") == "checkbox"
    assert _q(form, "input[name='steps.client_payment_jpy']").get_attribute("type") == "number"
    assert _q(form, "select[name='steps.photos.moment']").tag_name == "select"
    # Values are shown by the schema's labels; a free text field suggests its known values.
    moments = [o.text for o in _qq(form, "select[name='steps.photos.moment'] option")]
    assert "開始時" in moments and "終了時" in moments and "start" not in moments
    assert "テレワーク" in form.text
    method = _q(form, "input[name='lancers.method']")
    listed = [o.get_attribute("value") for o in _qq(form, f"#{method.get_attribute('list')} option")]
    assert listed == ["project", "task", "competition"]
    assert len(_qq(form, "fieldset.item")) == 3  # step 1, its start photo and its end photo
    for name in ("case_id", "lancers.method", "sme.name", "expert.name", "plan.steps", "steps.hours"):
        field = _q(form, f"[name='{name}']")
        label = _q(form, f"label[for='{field.get_attribute('id')}']")
        assert label.text.strip(), f"{name} has no label"
    # Add a second step, then remove it.
    _q(form, "button[data-add='steps']").click()
    assert len(_qq(form, "fieldset.list[data-list='steps'] > .items > fieldset.item")) == 2
    assert "ステップ2" in _qq(form, "fieldset.list[data-list='steps'] > .items > fieldset.item")[1].text
    _qq(form, "button[data-remove='steps']")[1].click()
    assert len(_qq(form, "fieldset.list[data-list='steps'] > .items > fieldset.item")) == 1

    values = {
        "case_id": "FORM-1", "as_of": "2021-03-31", "lancers.method": "project",
        "lancers.program_consent_on": "2021-01-08", "lancers.program_consent_via": "message",
        "expert.name": "山田 花子", "expert.applied_on": "2021-01-09", "expert.approved_on": "2021-01-13",
        "expert.referrer": "ランサーズ株式会社",
        "plan.steps": "1", "steps.planned_end_on": "2021-02-28", "steps.hours": "40",
        "steps.client_payment_jpy": "60000",
    }
    for name, value in values.items():
        _set(page, _q(form, f"[name='{name}']"), value)
    _q(page, "#check").click()
    # sme.name is required and was left empty: the error names it, and the field is marked.
    _wait(page, lambda d: _qq(d, '#errors .error[data-path="sme.name"]'), "the error on sme.name")
    assert _q(form, "input[name='sme.name']").get_attribute("aria-invalid") == "true"
    _set(page, _q(form, "input[name='sme.name']"), "株式会社サンプル商店")
    _q(page, "#check").click()
    assert _verdict(page) in ("incomplete", "ineligible")
    assert not _q(page, "#errors").is_displayed()
    assert _q(form, "input[name='sme.name']").get_attribute("aria-invalid") is None
    snapshot = json.loads(_q(page, "#form-json").get_attribute("textContent"))
    assert snapshot["format"] == "rulebook.case/v1" and snapshot["case_id"] == "FORM-1"
    assert snapshot["steps"][0]["number"] == 1 and snapshot["steps"][0]["hours"] == 40
    assert snapshot["steps"][0]["client_payment_jpy"] == 60000
    assert [p["moment"] for p in snapshot["steps"][0]["photos"]] == ["start", "end"]
    assert "consultation" not in snapshot  # optional parts left empty are not sent
    assert "FORM-1" in _q(page, "#case-line").text
    # The money shown is the service's answer for the snapshot the form built.
    expected = book.judge(snapshot)["payout"]["expert_total_jpy"]
    assert expected > 0 and f"{expected:,}円" in _q(page, "#expert-total").text
    # The form's labels switch language too.
    _q(page, "#lang-toggle").click()
    label = _q(form, f"label[for='{_q(form, 'input[name=case_id]').get_attribute('id')}']")
    assert "Case ID" in label.text


def test_phone_width_has_no_horizontal_scroll(page):
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})
    page.get(page.current_url)
    assert page.execute_script("return document.documentElement.clientWidth") == 360
    _paste_and_check(page, _example("failing-case.yaml"))
    _verdict(page)
    assert page.execute_script("return document.documentElement.scrollWidth") <= 362
    _screenshot(page, "/tmp/page-phone.png", 360, mobile=True)
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})
    for details in _qq(page, "details"):  # the folded parts fit too: sources, facts, the money table
        page.execute_script("arguments[0].open = true", details)
    assert page.execute_script("return document.documentElement.scrollWidth") <= 362
    _q(page, "#tab-form").click()
    _wait(page, lambda d: _qq(d, "#case-form input"), "the form")
    assert page.execute_script("return document.documentElement.scrollWidth") <= 362

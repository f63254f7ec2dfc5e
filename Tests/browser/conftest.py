"""Browser tests of esurat's web UI, driven through Debian's chromium by Playwright.

The Swift test `BrowserUITests` starts `esurat serve` on a throwaway database loaded with the
demo Kabupaten and runs this suite against it (ESURAT_BASE_URL). Every page a test visits is
checked the same way: axe-core finds no serious or critical violation, nothing scrolls
sideways at 360 px, every tap target is at least 44 px tall, no inline script or style, no
console error (a CSP violation would be one), no English word, and a screenshot is written.
"""

import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

BASE = os.environ.get("ESURAT_BASE_URL", "http://127.0.0.1:8080")
SHOTS = os.environ.get("ESURAT_SCREENSHOTS", os.path.join(os.getcwd(), "screenshots"))
CHROMIUM = os.environ.get("ESURAT_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "esurat-demo-2026"
DEMO_PASSPHRASE = "tte-demo-2026"
ADMIN_PASSWORD = os.environ.get("ESURAT_ADMIN_PASSWORD", "")
# Subjects carry the run's mark, so the suite can run twice against one server.
RUN = os.environ.get("ESURAT_RUN_MARK", str(int(__import__("time").time()) % 100000))

# Words of an English UI, and what a template leaks when a value is missing.
ENGLISH = re.compile(
    r"\b(Submit|Cancel|Error|Sign ?out|Sign ?in|Log ?in|Log ?out|Save|Delete|Edit|Back|Next|Previous|Search|Loading|Forbidden|"
    r"Not Found|Internal Server|must be|is required|letter|bearer|token|null|undefined|NaN|true|false|Optional)\b"
)

_axe = Axe()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        # Debian's build; `playwright install` would try to download one and cannot here.
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


class Person:
    """One person at one device: a browser context of their own (their cookie session)."""

    def __init__(self, browser, width=360, height=800, javascript=True, name="orang"):
        self.context = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=2 if width < 600 else 1,
            is_mobile=width < 600, has_touch=width < 600, locale="id-ID", java_script_enabled=javascript,
        )
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.width = width
        self.name = name
        self.javascript = javascript
        self.console_errors = []
        # A 4xx page the test provokes on purpose logs "Failed to load resource"; anything else
        # (a CSP violation, a script error) is a failure.
        self.page.on("console", lambda message: message.type == "error" and not message.text.startswith("Failed to load resource")
                     and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("dialog", lambda dialog: (_ for _ in ()).throw(AssertionError(f"a dialog opened: {dialog.message}")))
        self.checked = 0

    def close(self):
        self.context.close()

    def goto(self, path, screen=None):
        response = self.page.goto(BASE + path)
        if screen:
            self.check(screen)
        return response

    def login(self, username, password=PASSWORD, screen=None):
        self.page.goto(BASE + "/masuk")
        self.page.get_by_label("Nama pengguna").fill(username)
        self.page.get_by_label("Kata sandi").fill(password)
        self.page.get_by_role("button", name="Masuk").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Perlu Tindakan Saya")
        if screen:
            self.check(screen)

    def check(self, screen):
        """The checks every screen passes, and its screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.lang") == "id", f"{screen}: lang is not id"
        assert page.locator("script:not([src])").count() == 0, f"{screen}: inline script"
        assert page.locator("[style]").count() == 0, f"{screen}: inline style"
        if self.width <= 400:
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{screen}: scrolls sideways by {overflow} px at {self.width} px"
            small = page.evaluate(
                """() => [...document.querySelectorAll(
                    'button, .button, nav a, summary, select, textarea, label.choice, label.chip, h3 a, .plain a, .subtabs a, ' +
                    'input:not([type=checkbox]):not([type=radio]):not([type=hidden])')]
                  .filter(e => e.offsetParent !== null)
                  .map(e => [e.tagName + ' ' + (e.innerText || e.name || '').trim().slice(0, 40), e.getBoundingClientRect().height])
                  .filter(([_, h]) => h > 0 && h < 43.5)"""
            )
            assert not small, f"{screen}: tap targets under 44 px: {small}"
        text = page.evaluate(
            """() => { const c = document.body.cloneNode(true);
                c.querySelectorAll('code, .mono, [translate=no], script, style').forEach(e => e.remove());
                return c.innerText; }"""
        )
        leaked = ENGLISH.findall(text)
        assert not leaked, f"{screen}: English or leaked values on the page: {sorted(set(leaked))}"
        labels = page.evaluate(
            "() => [...document.querySelectorAll('label, legend, button, h1, h2, summary')].filter(e => !e.textContent.trim()).length"
        )
        assert labels == 0, f"{screen}: {labels} empty labels or headings"
        # axe-core is a script: it cannot run where the page's scripts are off. The same screens
        # are checked with JavaScript on.
        if self.javascript:
            results = _axe.run(page)
            serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
            assert not serious, f"{screen}: axe found {[(v['id'], v['impact'], len(v['nodes'])) for v in serious]}"
        assert not self.console_errors, f"{screen}: console errors {self.console_errors}"
        os.makedirs(SHOTS, exist_ok=True)
        suffix = "" if self.javascript else "-tanpa-js"
        page.screenshot(path=os.path.join(SHOTS, f"{screen}-{self.width}px{suffix}.png"), full_page=True)
        self.checked += 1

    def notice(self):
        return self.page.get_by_role("status")

    def csrf(self):
        return self.page.locator("input[name=_csrf]").first.get_attribute("value")


@pytest.fixture
def people(browser):
    """people("diskominfo.kepala") logs a person in on a 360 px phone; keyword arguments pick
    another width or JavaScript off."""
    made = []

    def make(username=None, password=PASSWORD, screen=None, **kwargs):
        person = Person(browser, name=username or "tamu", **kwargs)
        made.append(person)
        if username:
            person.login(username, password, screen=screen)
        return person

    yield make
    for person in made:
        person.close()

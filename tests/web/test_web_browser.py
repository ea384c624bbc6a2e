#!/usr/bin/env python3
"""The page in a real browser: Debian's Chromium, headless, driven by
python3-selenium through chromedriver. The page lists the devices and their
values, a value changes on the page without a reload as the simulator's
register changes, the console stays free of errors, the page fits a phone's
width, and screenshots are kept in the build directory."""
import os
import shutil
import tempfile
import time

import ef
from webutil import ModbusSim, http_section, ini, point, wait_status

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

T = ef.Test()
OUT = os.environ.get("EF_BUILD_DIR", ".")


def browser(tmp, cleanup, width, height, phone=False):
    profile = tempfile.mkdtemp(prefix="ef-chromium-", dir=tmp.path)
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
              f"--window-size={width},{height}"]:
        o.add_argument(a)
    if phone:  # a phone's viewport: headless windows are at least 500 px wide
        o.add_experimental_option("mobileEmulation", {"deviceMetrics": {
            "width": width, "height": height, "pixelRatio": 2}})
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for attempt in range(3):  # a loaded machine can miss chromedriver's start-up deadline
        try:
            d = webdriver.Chrome(service=Service("/usr/bin/chromedriver",
                                                 log_path=tmp.file("chromedriver.log")),
                                 options=o)
            break
        except Exception as e:  # noqa: BLE001
            print(f"chromium did not start ({e}); trying again", flush=True)
            if attempt == 2:
                raise
    d.set_page_load_timeout(60 * ef.TIME_SCALE)
    cleanup(d.quit)
    return d


def cell(d, device, name):
    """The text of a point's value cell, read in one script call: the page
    re-renders its rows on every event, so a found element can go stale
    before its text is asked for (StaleElementReferenceException)."""
    return d.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
        f'td.v[data-device="{device}"][data-point="{name}"]')


def severe(d):
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


@T.case
def page_shows_devices_and_updates_live_without_errors(tmp, cleanup):
    sim = ModbusSim(tmp, "--unit", 1, "--dead-unit", 2)
    cleanup(sim.stop)
    broker = ef.Broker(tmp)
    cleanup(broker.stop)
    port = ef.free_port()
    extra = ("[device:pump2]\nbus = b\nunit = 2\noffline_after = 1\n"
             "[point:pump2.flow]\nregister = holding:0\nunit = l/min\n")
    gw = ef.Gateway(tmp, ini(tmp, sim.port, broker.port, http_section(port), extra)).start()
    cleanup(gw.stop)
    wait_status(port, lambda s: point(s, "d1", "ramp")["ts"] > 0 and not s["devices"][1]["online"]
                and s["broker"]["connected"], "values, pump2 offline, broker up")

    d = browser(tmp, cleanup, 1100, 900)
    d.get(f"http://127.0.0.1:{port}/")
    ef.wait_until(lambda: cell(d, "d1", "ramp") not in (None, "", "\u2014"), 30, step=0.2,
                  what="the ramp value on the page")
    body = d.find_element(By.TAG_NAME, "body").text
    for text in ["gw-web", "d1", "pump2", "online", "offline", "connected", "°C <b>", "l/min",
                 "d1/temp: high", "pump2: offline"]:
        assert text in body, f"{text!r} not on the page:\n{body}"
    assert cell(d, "d1", "temp") == "3.1415927"
    # Markup in a unit is shown as text, never parsed.
    assert not d.find_elements(By.CSS_SELECTOR, "td b")
    # A marker survives only if the page is never reloaded.
    d.execute_script("window.efMarker = 42;")
    first = cell(d, "d1", "ramp")
    ef.wait_until(lambda: cell(d, "d1", "ramp") not in (first, None), 30, step=0.2,
                  what="the ramp value to change on the page")
    assert d.execute_script("return window.efMarker;") == 42, "the page was reloaded"
    time.sleep(1.5)  # one more event: its console messages too
    errs = severe(d)
    assert not errs, f"console errors: {errs}"
    d.save_screenshot(os.path.join(OUT, "web-view.png"))

    # A phone: nothing wider than the screen.
    p = browser(tmp, cleanup, 390, 844, phone=True)
    p.get(f"http://127.0.0.1:{port}/")
    ef.wait_until(lambda: cell(p, "d1", "ramp") not in (None, "", "\u2014"), 30, step=0.2,
                  what="the page on a phone")
    sw, iw = p.execute_script("return [document.documentElement.scrollWidth, window.innerWidth];")
    assert sw <= iw, f"the page is {sw}px wide on a {iw}px screen"
    p.save_screenshot(os.path.join(OUT, "web-view-phone.png"))
    assert not severe(p)

    # The broker goes away: the page says so without a reload.
    broker.stop()
    broker_text = "const e = document.getElementById('broker'); return e ? e.textContent : '';"
    ef.wait_until(lambda: "disconnected" in d.execute_script(broker_text), 60, step=0.3,
                  what="the broker shown disconnected")
    assert d.execute_script("return window.efMarker;") == 42
    assert not severe(d)


if __name__ == "__main__":
    raise SystemExit(T.run())

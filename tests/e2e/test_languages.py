"""The language switcher in Chromium: a visitor whose browser asks for English picks
French at the top of a page, and every page after it, and the answer to a form, is in
French."""

from __future__ import annotations


def test_language_chosen_in_the_switcher_holds_across_pages_and_forms(site):
    page = site.page
    site.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Français").click()
    site.lang = "fr"
    page.get_by_role("link", name=site.t("Privacy statement")).click()
    site.check("privacy")
    page.get_by_role("contentinfo").get_by_role("link", name=site.t("Your data")).click()
    page.get_by_role("heading", name=site.t("Your data")).wait_for()
    site.check("request-link")
    page.get_by_label(site.t("Your e-mail address")).fill("someone@example.org")
    page.get_by_role("button", name=site.t("Send me my link")).click()
    page.get_by_text(site.t("If we hold data under that address, we have sent a personal "
                            "link to it.")).wait_for()
    site.check("request-link-sent")

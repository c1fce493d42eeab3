"""The application form tells everyone, screen readers included, what is wrong and where."""

from __future__ import annotations

from flask import render_template_string
from lxml import html as lxml_html

from tests.journey import apply, make_vacancy
from vault.candidate.forms import LinkRequestForm


def _tree(response):
    return lxml_html.fromstring(response.data.decode())


def test_errors_are_summarised_at_the_top_each_linking_to_its_invalid_field(app, client):
    response = apply(client, full_name="", email="not-an-email", consent_application=None,
                     companies=None, **{"education-0-institution": ""})
    assert response.status_code == 400
    tree = _tree(response)
    [summary] = tree.xpath("//*[@id='error-summary']")
    # Focus goes there (autofocus; static/apply.js too), before the form in reading order.
    assert summary.get("tabindex") == "-1" and summary.get("autofocus") is not None
    assert tree.xpath("//*[@id='error-summary']/following::form")
    links = [a.get("href") for a in summary.xpath(".//a")]
    assert links == ["#full_name", "#email", "#companies-0", "#education-0-institution",
                     "#consent_application"]
    texts = [a.text_content() for a in summary.xpath(".//a")]
    assert texts[0] == "Full name: Enter your full name."
    assert texts[3] == ("Education 1 \u2013 Institution: Enter the institution, or leave this "
                        "whole education entry empty.")
    for href in links:
        control = tree.get_element_by_id(href[1:])
        assert control.get("aria-invalid") == "true", href
        error_id = next(ref for ref in control.get("aria-describedby").split()
                        if ref.endswith("-error"))
        message = tree.get_element_by_id(error_id).text_content()
        assert message and message in summary.text_content()
    # Fields without an error are not marked invalid.
    assert tree.get_element_by_id("phone").get("aria-invalid") is None


def test_a_form_without_errors_has_no_summary(client):
    assert b"error-summary" not in client.get("/apply").data


def test_required_and_optional_fields_are_marked_in_words_and_in_markup(app, client):
    tree = _tree(client.get("/apply"))

    def label(control_id: str) -> str:
        return tree.xpath(f"//label[@for='{control_id}']")[0].text_content()

    for required in ("full_name", "email", "position", "cv", "education-0-degree",
                     "education-0-field", "education-0-institution"):
        control = tree.get_element_by_id(required)
        assert control.get("aria-required") == "true" and control.get("required") is not None
        assert "(required)" in label(required), required
    for optional in ("phone", "age", "gender", "interests", "education-0-year"):
        control = tree.get_element_by_id(optional)
        assert control.get("aria-required") is None and control.get("required") is None
        assert "(optional)" in label(optional), optional
    assert tree.get_element_by_id("consent_application").get("aria-required") == "true"
    legend = tree.xpath("//fieldset[@id='companies']/legend")[0].text_content()
    assert "(required)" in legend


def test_each_education_entry_is_a_group_with_its_own_legend(app, client):
    slug = make_vacancy(app)
    tree = _tree(client.get(f"/apply/{slug}"))
    [row] = tree.xpath("//fieldset[@id='education']/fieldset")
    assert row.xpath("./legend")[0].text_content() == "Education 1"
    assert row.xpath(".//button[@name='remove_education']")[0].text_content() == \
        "Remove education 1"
    assert tree.xpath("//button[@name='add_education']")[0].text_content() == \
        "Add another education"


def test_form_macros_keep_their_old_calls_and_describe_hints_and_errors(app):
    template = ('{% from "_forms.html" import field, errors %}'
                '{{ field(form.email, hint="Where we write to you.", autocomplete="email") }}'
                '{{ errors(form.email) }}')
    with app.test_request_context("/my-data", method="POST", data={"email": "nope"}):
        form = LinkRequestForm()
        assert not form.validate()
        page = lxml_html.fromstring(f"<div>{render_template_string(template, form=form)}</div>")
    control = page.xpath("//input[@name='email']")[0]
    assert control.get("autocomplete") == "email" and control.get("aria-invalid") == "true"
    assert control.get("aria-describedby") == "email-hint email-error"
    assert control.get("aria-required") == "true"
    assert page.xpath("//*[@id='email-hint']")[0].text_content() == "Where we write to you."
    assert "valid e-mail address" in page.xpath("//*[@id='email-error']")[0].text_content()
    assert page.xpath("//label[@for='email']")[0].text_content() == "Your e-mail address"

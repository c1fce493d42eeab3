from __future__ import annotations

import pytest

from vault.crypto.analysis import (
    detect_language,
    document_terms,
    matches,
    query_words,
    stem,
)


def _found(document: str, q: str) -> bool:
    return matches(set(document_terms(document)), query_words(q))


@pytest.mark.parametrize(("document", "q"), [
    ("Senior developer", "developers"),
    ("Three developers in the team", "developer"),
    ("Développeuse .NET depuis six ans", "développeur"),
    ("Il a encadré deux développeurs", "développeuse"),
    ("Ik werk met vijf ontwikkelaars", "ontwikkelaar"),
    ("Senior Javaontwikkelaar bij een bank", "java"),
    ("Senior Javaontwikkelaar bij een bank", "ontwikkelaar"),
    ("Java-ontwikkelaar", "javaontwikkelaar"),
    ("Worked at Ørsted", "orsted"),
    ("Worked at Ørsted", "Ørsted"),
    ("the mœlquix tracker", "moelquix"),
    ("Weißbier brewer", "weissbier"),
])
def test_forms_of_a_word_meet_in_documents_and_queries(document, q):
    assert _found(document, q)


@pytest.mark.parametrize(("document", "q"), [
    ("Languages: C#, F#", "c#"),
    ("Languages: C#, F#", "f#"),
    ("C++ pricing engine.", "c++"),
    ("ASP.NET Core services", ".net"),
    ("ASP.NET Core services", "asp.net"),
    ("Built on .NET.", ".NET"),
    ("Node.js and React", "nodejs"),
    ("Node.js and React", "node.js"),
    ("Backed by SQL  Server.", "sqlserver"),
    ("Backed by SQL Server", "sql server"),
    ("MS-SQL databases", "sql server"),
    ("Reporting in Power BI", "powerbi"),
    ("Moved to Postgres", "postgresql"),
    ("Moved to PostgreSQL", "postgres"),
    ("JavaScript since 2012", "js"),
    ("JS on the front", "javascript"),
    ("Runs the k8s platform", "kubernetes"),
    ("CI/CD pipelines", "ci/cd"),
    ("C#-ontwikkelaar in Gent", "c#"),
    ("a full-stack developer", "fullstack"),
    ("a full-stack developer", "full stack"),
])
def test_technical_terms_are_kept_whole_and_synonyms_meet(document, q):
    assert _found(document, q)


@pytest.mark.parametrize(("document", "q"), [
    ("C is a letter; so is c", "c#"),
    ("C is a letter; so is c", "c++"),
    ("Mail me at anna@example.net", ".net"),
    ("See https://example.net/anna or www.nodejs.org", ".net"),
    ("See https://example.net/anna or www.nodejs.org", "nodejs"),
    ("Project manager for software development", "developer"),
    ("Verantwoordelijk voor de softwareontwikkeling", "ontwikkelaar"),
    ("Date de naissance : 4 mars 1985", "data"),
    ("Java developer", "javascript"),
    ("Microsoft SQL, web server", "sqlserver"),
])
def test_look_alikes_do_not_match(document, q):
    assert not _found(document, q)


def test_addresses_give_no_words():
    assert document_terms("anna.janssens@example.net https://anna.example.org/cv") == {}


@pytest.mark.parametrize(("text", "language"), [
    ("Senior developer with eight years of experience in the bank", "en"),
    ("Ontwikkelaar met tien jaar ervaring bij een bank in Gent", "nl"),
    ("Développeuse depuis six ans dans le secteur public pour la région", "fr"),
    ("Python Kafka Spark", "en"),
])
def test_the_language_is_told_by_its_common_words(text, language):
    assert detect_language(text.lower().split()) == language


def test_a_query_word_is_read_under_each_language_and_short_words_are_kept_whole():
    assert query_words("developers")[0].terms == ("en:developer", "nl:developer",
                                                  "fr:developer")
    assert query_words("data")[0].terms == ("=data",)  # not the French stem of "date"
    assert stem("fr", "date") == "=date"


def test_a_query_drops_stop_words_but_keeps_them_when_nothing_else_is_left():
    assert [w.word for w in query_words("developer in the Gent area")] == [
        "developer", "gent", "area"]
    assert [w.word for w in query_words("the")] == ["the"]


@pytest.mark.parametrize("q", ["c", "#", "++", "a b", "  ", "é"])
def test_a_query_without_a_word_gives_nothing(q):
    assert query_words(q) == []


def test_a_run_cache_gives_the_same_terms():
    cache: dict[str, tuple[str, ...]] = {}
    text = "Senior Javaontwikkelaar, C#, SQL Server, developers"
    assert document_terms(text, cache) == document_terms(text)
    assert document_terms(text, cache) == document_terms(text)
    assert all(":" not in key and "=" not in key for key in cache)  # raw words only


def test_many_addresses_cost_linear_time():
    # An upload may hold up to 200,000 characters: dropping addresses must not rebuild
    # the text once per address.
    assert document_terms(" ".join(["a@b.c"] * 50_000) + " python") == {"en:python": 1}

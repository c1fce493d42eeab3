from __future__ import annotations

import pytest

from vault.crypto.analysis import (
    PREFIX_MAX,
    detect_language,
    document_index,
    document_terms,
    document_words,
    matches,
    query_words,
    stem,
    word_prefixes,
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


def test_a_word_gives_its_beginnings_of_three_to_ten_letters_never_itself():
    assert word_prefixes("python") == ["pyt", "pyth", "pytho"]
    assert word_prefixes("java") == ["jav"]
    assert word_prefixes("sql") == []  # three letters: the word itself only
    assert word_prefixes("ontwikkelaars") == ["ont", "ontw", "ontwi", "ontwik", "ontwikk",
                                              "ontwikke", "ontwikkel", "ontwikkela"]
    assert word_prefixes("k8s") == [] and word_prefixes("2015") == []  # letters only


def test_a_document_gives_prefixes_of_its_words_and_compound_heads_but_not_addresses():
    _terms, prefixes = document_index("Javaontwikkelaar, Python/Django; anna@example.org")
    assert {"pyth", "djan", "java", "javaontwik", "ontwikk"} <= prefixes
    assert not {p for p in prefixes if p.startswith(("ann", "exa"))}  # the e-mail is dropped
    assert all(3 <= len(p) <= PREFIX_MAX for p in prefixes)


@pytest.mark.parametrize(("q", "prefix"), [
    ("pyth", "pyth"), ("Python", "python"), ("Développeur", "developpeur"),
    ("py", None), ("c#", None), ("k8s", None), ("2015", None), ("postgres", None),
])
def test_a_query_word_of_three_letters_or_more_is_also_a_prefix(q, prefix):
    assert query_words(q)[0].prefix == prefix


@pytest.mark.parametrize(("document", "q", "found"), [
    ("Senior Python developer", "pyth", True),
    ("Senior Python developer", "py", False),  # two letters: whole words only
    ("Senior Python developer", "ytho", False),  # a beginning, not any piece
    ("Javaontwikkelaar", "ontwikk", True),
    ("JavaScript", "java", True),
    ("Java", "javascript", False),
])
def test_a_query_word_matches_a_word_it_begins_on_the_plain_words(document, q, found):
    assert matches(document_terms(document), query_words(q),
                   lambda: document_words(document)) is found


def test_without_the_plain_words_only_whole_words_match():
    assert not matches(document_terms("Senior Python developer"), query_words("pyth"))

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import event, inspect, select, text

from tests.forensics import database_dump
from tests.services.test_candidates import sample_input
from vault.appctx import vault_keys
from vault.crypto.analysis import query_words
from vault.crypto.blind_index import is_prefix_token
from vault.database import scrub_deleted_bytes
from vault.extensions import db
from vault.models import Candidate, User, Vacancy
from vault.services import audit, consent, erasure
from vault.services.candidates import (
    CandidateInput,
    Correction,
    DocumentInput,
    EducationInput,
    correct_candidate,
    create_candidate,
)
from vault.services.indexing import TIERS, query_tokens
from vault.services.search import QueryRefused, search, token_id


def _input(name: str, email: str, cv: str, *, position: str = "Engineer",
           interests: str = "", degree: str = "Master of Science", field: str = "Physics",
           institution: str = "KU Leuven") -> CandidateInput:
    return CandidateInput(
        full_name=name, email=email, position=position, interests=interests, age="40",
        gender="male", phone="+32 999",
        education=(EducationInput(degree, field, institution, "2010"),),
        cv=DocumentInput(content=b"%PDF-", filename="cv.pdf", media_type="application/pdf",
                         extension="pdf", text=cv, has_text=True))


@pytest.fixture
def pool(app, clock):
    """Three pool candidates and users; returns (public ids by name, user ids)."""
    with app.app_context():
        vacancy = Vacancy(slug="v", company="Ingenium", title="Job", status="open")
        other = Vacancy(slug="o", company="Hoptimize", title="Other job", status="open")
        db.session.add_all([vacancy, other])
        db.session.flush()
        people = {
            "anna": (_input("Anna Janssens", "anna@example.org",
                            "Built Kafka pipelines in Python at a bank.",
                            position="Data engineer", interests="cycling rust",
                            institution="Ghent University", field="Computer Science"), True,
                     vacancy.id),
            "bart": (_input("Bart Peeters", "bart@example.org",
                            "Python web developer, Django and Postgres.",
                            degree="Bachelor of Arts", field="History"), True, None),
            "cleo": (_input("Cleo Dubois", "cleo@example.org", "Python, Kafka, Spark, Kafka.",
                            degree="PhD", field="Statistics"), False, other.id),
        }
        ids = {}
        for key, (data, in_pool, vacancy_id) in people.items():
            record = create_candidate(db.session, vault_keys(), data, now=clock(),
                                      vacancy_id=vacancy_id)
            if in_pool:
                consent.grant_pool_consent(db.session, record, months=24, notice_version="t",
                                           source="test", now=clock())
            ids[key] = record.public_id
        recruiter = User(email="r@x", password_hash="-", role="recruiter", company="Ingenium")
        admin = User(email="a@x", password_hash="-", role="admin", company="Ingenium")
        db.session.add_all([recruiter, admin])
        db.session.commit()
        return ids, {"recruiter": recruiter.id, "admin": admin.id}


def _find(app, clock, user_id, q, **kw) -> list[str]:
    with app.app_context():
        user = db.session.get(User, user_id)
        page = search(db.session, vault_keys(), user, q=q, now=clock(), **kw)
        return [hit.public_id for hit in page.results]


@pytest.mark.parametrize("q", ["janssens", "Anna", "anna@example.org", "data engineer",
                               "cycling", "RUST", "pipelines", "bank", "ghent university",
                               "computer science", "master", "Ghent, University!"])
def test_a_known_candidate_is_found_by_each_indexed_field(app, clock, pool, q):
    ids, users = pool
    assert ids["anna"] in _find(app, clock, users["admin"], q)


def test_exact_email_finds_only_that_person(app, clock, pool):
    ids, users = pool
    assert _find(app, clock, users["admin"], "BART@example.org") == [ids["bart"]]
    assert _find(app, clock, users["admin"], "nobody@example.org") == []


@pytest.mark.parametrize("q", ["40", "male", "+32", "999"])
def test_age_gender_and_phone_are_not_searchable(app, clock, pool, q):
    _ids, users = pool
    assert _find(app, clock, users["admin"], q) == []


def test_several_words_narrow_the_result(app, clock, pool):
    ids, users = pool
    assert set(_find(app, clock, users["admin"], "python")) == set(ids.values())
    assert set(_find(app, clock, users["admin"], "python kafka")) == {ids["anna"], ids["cleo"]}
    assert _find(app, clock, users["admin"], "python kafka django") == []


def test_results_are_ranked_by_how_much_matches(app, clock, pool):
    ids, users = pool
    # Anna has "kafka" in her CV and "data engineer" as position: more matching tokens.
    assert _find(app, clock, users["admin"], "kafka data")[0] == ids["anna"]


def test_recruiters_see_only_the_pool_and_their_company(app, clock, pool):
    ids, users = pool
    found = set(_find(app, clock, users["recruiter"], "python"))
    assert found == {ids["anna"], ids["bart"]}  # Cleo applied elsewhere, no pool consent


def test_degree_level_and_vacancy_filters(app, clock, pool):
    ids, users = pool
    admin = users["admin"]
    assert _find(app, clock, admin, "python", degree_level="doctorate") == [ids["cleo"]]
    assert _find(app, clock, admin, "", degree_level="bachelor") == [ids["bart"]]
    with app.app_context():
        vacancy_id = db.session.scalar(select(Vacancy.id).where(Vacancy.slug == "v"))
    assert _find(app, clock, admin, "", vacancy_id=vacancy_id) == [ids["anna"]]


def test_empty_query_lists_visible_candidates_newest_first(app, clock, pool):
    ids, users = pool
    assert _find(app, clock, users["recruiter"], "") == [ids["bart"], ids["anna"]]


def test_pagination(app, clock, pool):
    ids, users = pool
    with app.app_context():
        user = db.session.get(User, users["admin"])
        first = search(db.session, vault_keys(), user, q="python", page_size=2, now=clock())
        second = search(db.session, vault_keys(), user, q="python", page=2, page_size=2,
                        now=clock())
    assert first.has_next and not second.has_next and first.total_estimate == 3
    seen = [h.public_id for h in first.results + second.results]
    assert sorted(seen) == sorted(ids.values())


def test_withdrawn_and_erased_candidates_are_never_found(app, clock, pool):
    ids, users = pool
    with app.app_context():
        bart = db.session.scalar(select(Candidate).where(Candidate.public_id == ids["bart"]))
        consent.withdraw_pool_consent(db.session, bart, notice_version="t", source="test",
                                      now=clock())
        db.session.commit()
    assert ids["bart"] not in _find(app, clock, users["recruiter"], "python")
    with app.app_context():
        anna = db.session.scalar(select(Candidate).where(Candidate.public_id == ids["anna"]))
        erasure.erase_records(db.session, [anna], reason=erasure.OPERATOR, now=clock(),
                              ledger=None, actor=audit.SYSTEM)
    assert _find(app, clock, users["admin"], "anna") == []
    assert _find(app, clock, users["admin"], "kafka") == [ids["cleo"]]


def test_results_show_a_matching_excerpt(app, clock, pool):
    _ids, users = pool
    with app.app_context():
        user = db.session.get(User, users["admin"])
        page = search(db.session, vault_keys(), user, q="django", now=clock())
    assert "Django" in page.results[0].excerpt.marked


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
@pytest.mark.parametrize("q", ["python", "", "python kafka spark"])
def test_a_result_names_the_vacancys_company_or_those_an_application_names(
        app, clock, monkeypatch, small_match, q):
    # On PostgreSQL the named companies come back with the page's rows (every way the
    # page is read), on SQLite in a statement of their own: the same line either way.
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    cv = "Python, Kafka and Spark."
    with app.app_context():
        vacancy = Vacancy(slug="v", company="Ingenium", title="Job", status="open")
        db.session.add(vacancy)
        db.session.flush()
        keys = vault_keys()
        made = [create_candidate(db.session, keys, _input("Vera Vacancy", "v@example.org", cv),
                                 now=clock(), vacancy_id=vacancy.id),
                create_candidate(db.session, keys, _input("Toon Two", "t@example.org", cv),
                                 now=clock(), companies=["Zeta", "Hoptimize"]),
                create_candidate(db.session, keys, _input("Nora None", "n@example.org", cv),
                                 now=clock())]
        admin = User(email="a@x", password_hash="-", role="admin", company="Ingenium")
        db.session.add(admin)
        db.session.commit()
        ids = [record.public_id for record in made]
        page = search(db.session, keys, admin, q=q, now=clock())
        lines = {hit.public_id: (hit.vacancy_title, hit.company) for hit in page.results}
    assert lines == {ids[0]: ("Job", "Ingenium"), ids[1]: (None, "Hoptimize and Zeta"),
                     ids[2]: (None, None)}


@pytest.mark.app_config(BLIND_INDEX_BITS=16)
def test_false_positives_from_truncated_tokens_are_removed(app, clock):
    with app.app_context():
        keys = vault_keys()
        record = create_candidate(db.session, keys, sample_input(), now=clock())
        stored = set(record.index_row.tokens.split())
        admin = User(email="a@x", password_hash="-", role="admin", company="Ingenium")
        db.session.add(admin)
        db.session.commit()
        # Find a word the record does not contain whose token collides with one it has.
        colliding = next(
            word for word in (f"zq{i}" for i in itertools.count())
            if stored.intersection(query_tokens(keys.blind_index,
                                                query_words(word)[0]).tokens))
        page = search(db.session, keys, admin, q=colliding, now=clock())
        assert page.total_estimate == 1  # the database matched it by token...
        assert page.results == []  # ...and opening it proved the match false


def _ranked_pool(app, clock, cvs: list[str]) -> list[str]:
    """Records with these CV texts, created in order (later is newer); their public ids."""
    with app.app_context():
        ids = []
        for number, cv in enumerate(cvs):
            record = create_candidate(db.session, vault_keys(), _input(
                f"Person {number}", f"p{number}@example.org", cv, position="Tester",
                field="Biology"), now=clock())
            ids.append(record.public_id)
        db.session.add(User(email="a@x", password_hash="-", role="admin", company="Ingenium"))
        db.session.commit()
        return ids


def _all_pages(app, clock, q: str, page_size: int) -> list[str]:
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "a@x"))
        found, page = [], 1
        while True:
            result = search(db.session, vault_keys(), admin, q=q, page=page,
                            page_size=page_size, now=clock())
            found += [hit.public_id for hit in result.results]
            if not result.has_next:
                return found
            page += 1


def _expected_order(cvs: list[str], ids: list[str], words: list[str]) -> list[str]:
    """Sum of min(occurrences, TIERS) over the words, newest first among equals."""
    matching = [(sum(min(cv.lower().split().count(w), TIERS) for w in words), number)
                for number, cv in enumerate(cvs)
                if all(w in cv.lower().split() for w in words)]
    return [ids[number] for _score, number in sorted(matching, reverse=True)]


def test_a_word_found_more_often_ranks_higher(app, clock):
    # Newest first among equals, so the older record only comes first by its score.
    cvs = ["kafka, kafka and more kafka", "kafka", "spark"]
    ids = _ranked_pool(app, clock, cvs)
    assert _all_pages(app, clock, "kafka", 20) == [ids[0], ids[1]]


# Scores spread over every level: each CV mentions each word 0 to 3 times.
TIER_CVS = [" ".join(["kafka"] * a + ["spark"] * b + ["scala"] * c + ["filler"])
            for a, b, c in itertools.product(range(4), repeat=3)]


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
@pytest.mark.parametrize("q", ["kafka", "kafka spark", "scala spark kafka"])
def test_ranking_is_the_sum_of_tiers_whichever_way_it_is_computed(app, clock, monkeypatch,
                                                                  small_match, q):
    # Over SMALL_MATCH matches the database walks the score levels; under it the
    # token strings are scored here. Both must give the same order, page after page.
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    ids = _ranked_pool(app, clock, TIER_CVS)
    expected = _expected_order(TIER_CVS, ids, q.split())
    assert _all_pages(app, clock, q, 4) == expected
    assert _all_pages(app, clock, q, 50) == expected


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
def test_words_after_the_third_narrow_without_ranking(app, clock, monkeypatch, small_match):
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    cvs = ["alpha beta gamma delta", "alpha beta gamma delta delta delta", "alpha beta gamma"]
    ids = _ranked_pool(app, clock, cvs)
    # "delta" only narrows: the two records holding it tie, so the newer comes first.
    assert _all_pages(app, clock, "alpha beta gamma delta", 20) == [ids[1], ids[0]]


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
def test_ranking_respects_filters_and_access(app, clock, monkeypatch, small_match, pool):
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    ids, users = pool
    # Cleo says Kafka twice but applied elsewhere without pool consent.
    assert _find(app, clock, users["recruiter"], "kafka") == [ids["anna"]]
    assert _find(app, clock, users["admin"], "kafka") == [ids["cleo"], ids["anna"]]
    assert _find(app, clock, users["admin"], "kafka", degree_level="master") == [ids["anna"]]


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
def test_pool_results_end_the_moment_consent_expires(app, clock, monkeypatch, small_match,
                                                     pool):
    # The access rule compares the stored expiry with the bound clock; to the
    # microsecond, whichever way the statement is run.
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    ids, users = pool
    with app.app_context():
        bart = db.session.scalar(select(Candidate).where(Candidate.public_id == ids["bart"]))
        until = bart.pool_consent_until
        recruiter = db.session.get(User, users["recruiter"])
        for q in ("python", ""):
            seen = {moment: [h.public_id for h in search(
                db.session, vault_keys(), recruiter, q=q, now=moment).results]
                for moment in (until - timedelta(microseconds=1), until)}
            assert ids["bart"] in seen[until - timedelta(microseconds=1)]
            assert ids["bart"] not in seen[until]


@pytest.mark.parametrize("q", ["c", "#", "c ++", "a-b"])
def test_a_query_left_without_a_word_is_refused_never_everyone(app, clock, pool, q):
    _ids, users = pool
    with pytest.raises(QueryRefused) as refused:
        _find(app, clock, users["admin"], q)
    assert refused.value.args == ()  # a query can hold a name: none in the exception


def test_technical_terms_and_word_forms_find_their_candidates(app, clock):
    ids = _ranked_pool(app, clock, [
        "Contact: dev@example.net. Python developers team.",
        "C# and ASP.NET Core on SQL Server; the developer of the portal.",
        "Node.js, Postgres; C++ engine at Ørsted.",
    ])
    assert _all_pages(app, clock, ".net", 20) == [ids[1]]  # not the e-mail's domain
    assert _all_pages(app, clock, "c#", 20) == [ids[1]]
    assert _all_pages(app, clock, "sqlserver", 20) == [ids[1]]
    assert _all_pages(app, clock, "c++ postgresql nodejs orsted", 20) == [ids[2]]
    assert set(_all_pages(app, clock, "developer", 20)) == {ids[0], ids[1]}


# Prefixes: a query word of three letters or more also finds the words it begins.

PREFIX_CVS = ["Java developer since 2010", "JavaScript and TypeScript on the front",
              "Python and Django", "Pythonista at heart, python python"]


@pytest.mark.parametrize(("q", "expected"), [
    ("pyth", [3, 2]),  # python (twice) first, then newest first
    ("python", [3, 2]),  # whole word: the pythonista holds it too
    ("pythonis", [3]),
    ("py", []),  # two letters: whole words only
    ("ytho", []),  # a beginning, not any piece of a word
    ("javas", [1]),
    ("typescrip", [1]),
])
def test_a_query_word_of_three_letters_finds_the_words_it_begins(app, clock, q, expected):
    ids = _ranked_pool(app, clock, PREFIX_CVS)
    assert _all_pages(app, clock, q, 20) == [ids[n] for n in expected]


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
def test_whole_words_rank_before_words_the_query_only_begins(app, clock, monkeypatch,
                                                              small_match):
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    # Newer records first among equals: the older "java" must win by its score alone.
    ids = _ranked_pool(app, clock, ["java", "javascript", "javascript javascript",
                                    "java javaland java", "javanese"])
    assert _all_pages(app, clock, "java", 2) == [ids[3], ids[0], ids[4], ids[2], ids[1]]
    # Two words: a whole word and a prefix together outrank two prefixes.
    assert _all_pages(app, clock, "java jav", 20)[:2] == [ids[3], ids[0]]


def test_a_query_word_longer_than_the_prefix_cap_finds_only_what_it_begins(app, clock):
    # Prefix tokens stop at PREFIX_MAX (10) letters: "administrati" is looked up by
    # "administra" and the opened results that do not hold it are dropped.
    ids = _ranked_pool(app, clock, ["administration of servers", "administrator of servers"])
    assert _all_pages(app, clock, "administrati", 20) == [ids[0]]
    assert _all_pages(app, clock, "administrat", 20) == [ids[1], ids[0]]


def test_an_erased_persons_prefix_tokens_are_gone_with_the_record(app, clock):
    ids = _ranked_pool(app, clock, ["Quuxfrobnication specialist", "Python developer"])
    with app.app_context():
        rows = {pid: db.session.scalar(select(Candidate).where(Candidate.public_id == pid))
                for pid in ids}
        theirs = rows[ids[1]].index_row.tokens
        # Its own prefix tokens (the other record shares its name's, position's, ...).
        prefixes = {t for t in rows[ids[0]].index_row.tokens.split()
                    if is_prefix_token(t) and t not in theirs}
        assert vault_keys().blind_index.prefix_token("text", "quuxfrob") in prefixes
        assert len(prefixes) >= 10
        scrub_deleted_bytes(db.engine)
    before = database_dump(app)
    assert all(t.encode() in before for t in prefixes)  # the check below can see them
    with app.app_context():
        record = db.session.scalar(select(Candidate).where(Candidate.public_id == ids[0]))
        erasure.erase_records(db.session, [record], reason=erasure.OPERATOR, now=clock(),
                              ledger=None, actor=audit.CLI)
    # Forensic: not in any row, nor (SQLite) anywhere in the database files.
    after = database_dump(app)
    assert [t for t in prefixes if t.encode() in after] == []
    assert _all_pages(app, clock, "quuxfrob", 20) == []


def _token_arrays(app) -> list[tuple[set[int], set[int]]]:
    """(the tokens as token_id gives them, the stored int4[]) of every index row."""
    with app.app_context():
        rows = db.session.execute(text("SELECT tokens, token_ids FROM candidate_index")).all()
        return [({token_id(t) for t in tokens.split()}, set(ids)) for tokens, ids in rows]


def test_postgresql_token_arrays_follow_the_tokens_on_insert_and_reindex(app, backend, clock):
    ids = _ranked_pool(app, clock, ["Python developer", "Kafka and Spark"])
    if backend == "sqlite":
        # SQLite searches through FTS5 and has no such column: its schema is unchanged.
        with app.app_context():
            columns = {c["name"] for c in inspect(db.engine).get_columns("candidate_index")}
        assert "token_ids" not in columns
        return
    arrays = _token_arrays(app)
    assert len(arrays) == 2
    assert all(expected == stored and stored for expected, stored in arrays)
    with app.app_context():
        keys = vault_keys()
        record = db.session.scalar(select(Candidate).where(Candidate.public_id == ids[1]))
        before = set(db.session.scalar(text(
            "SELECT token_ids FROM candidate_index WHERE candidate_id = :c"), {"c": record.id}))
        # Corrected interests: the UPDATE's trigger recomputes the array from the new
        # tokens.
        correct_candidate(db.session, keys, record, Correction(interests="Quuxfrobnication"),
                          now=clock())
        db.session.commit()
    arrays = _token_arrays(app)
    assert all(expected == stored for expected, stored in arrays)
    assert before not in [stored for _expected, stored in arrays]
    assert _all_pages(app, clock, "quuxfrobnication", 20) == [ids[1]]
    assert _all_pages(app, clock, "python", 20) == [ids[0]]


def test_postgresql_search_conditions_can_use_the_gin_index(app, backend, clock):
    # intarray's && on int4[] is served only by an index of its own operator class: were
    # the index built with the core one, every search would read the whole table.
    ids = _ranked_pool(app, clock, ["Python developer", "Python and Kafka", "Rust"])
    if backend == "sqlite":
        assert _all_pages(app, clock, "python", 20) == [ids[1], ids[0]]
        return
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "token_ids" in statement:
            statements.append((statement, parameters))

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "a@x"))
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            page = search(db.session, vault_keys(), admin, q="python kafka", now=clock())
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        assert [hit.public_id for hit in page.results] == [ids[1]]
        assert statements
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            for statement, parameters in statements:
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = "\n".join(line for (line,) in cursor.fetchall())
                assert "candidate_token_ids_gin" in plan, plan
        db.session.rollback()


@pytest.mark.parametrize("small_match", [0, 1_000], ids=["levels", "scored-here"])
def test_postgresql_token_statements_are_planned_for_each_query(app, backend, clock,
                                                               monkeypatch, small_match):
    # A plan the server cached for a statement's shape is made without the token arrays'
    # values, and serves a common word as badly as a rare one: the statements on tokens
    # are never prepared, however often a shape runs; the lines by id are, and the
    # connection's own setting is left as it was.
    monkeypatch.setattr("vault.services.search.SMALL_MATCH", small_match)
    ids = _ranked_pool(app, clock, TIER_CVS)
    queries = ["kafka spark", "scala spark", "kafka scala"]
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "a@x"))
        # One connection throughout: prepared statements are a connection's.
        connection = db.session.connection()
        for _round in range(6):  # psycopg prepares a statement at its fifth run
            for q in queries:
                page = search(db.session, vault_keys(), admin, q=q, page_size=4, now=clock())
                assert [hit.public_id for hit in page.results] == _expected_order(
                    TIER_CVS, ids, q.split())[:4]
        assert db.session.connection() is connection
        if backend == "sqlite":
            return
        driver = connection.connection.driver_connection
        assert driver.prepare_threshold == 5  # psycopg's default, untouched
        prepared = db.session.execute(text(
            "SELECT statement FROM pg_prepared_statements")).scalars().all()
        assert not [s for s in prepared if "token_ids" in s], prepared
        assert [s for s in prepared if "public_id" in s]  # the lines by id stay prepared
        db.session.rollback()


def test_postgresql_a_ranked_record_gone_before_its_line_is_read_is_left_out(
        app, backend, clock, monkeypatch):
    # The ids are ranked by one statement and their lines read by the next; a record
    # erased in between is missing from the second, and the page simply goes without it.
    ids = _ranked_pool(app, clock, ["kafka", "kafka kafka"])
    if backend == "sqlite":
        assert _all_pages(app, clock, "kafka", 20) == [ids[1], ids[0]]
        return
    from vault.services import search as search_module

    ranked = search_module._postgres_ranked_ids

    def with_a_gone_record(*args, **kwargs):
        total, found = ranked(*args, **kwargs)
        return total, [found[0], -1, *found[1:]]

    monkeypatch.setattr(search_module, "_postgres_ranked_ids", with_a_gone_record)
    assert _all_pages(app, clock, "kafka", 20) == [ids[1], ids[0]]

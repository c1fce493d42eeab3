"""Synthetic candidates for demos and benchmarks: realistic, reproducible, fictitious.

Skills follow a Zipf-like distribution (a few, like Python and SQL, are everywhere;
most are rare), as in real CV collections, so search is measured on realistic
selectivity. Every name and address is made up; e-mails use example.org.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from vault.services.candidates import CandidateInput, DocumentInput, EducationInput

FIRST = ["Emma", "Louise", "Olivia", "Noah", "Arthur", "Lucas", "Liam", "Jules", "Mila", "Elena",
         "Lotte", "Fien", "Wout", "Jasper", "Sofie", "Anouk", "Thomas", "Pieter", "Sarah",
         "Mohamed", "Yasmine", "Ines", "Nathan", "Victor", "Hanne", "Ruben", "Lena", "Amir",
         "Chloé", "Maxime", "Elise", "Bram", "Nora", "Jonas", "Zoë", "Sam", "Marie", "Kobe"]
LAST = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
        "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Martin", "Leroy", "Vermeulen",
        "Van Damme", "Hermans", "Aerts", "Lemmens", "El Amrani", "Desmet", "Michiels", "Smets",
        "Van den Broeck", "Cools", "Renard", "Simon", "Laurent", "Claessens", "De Clercq"]
INSTITUTIONS = ["KU Leuven", "Ghent University", "Université libre de Bruxelles",
                "UCLouvain", "Vrije Universiteit Brussel", "University of Antwerp",
                "Hasselt University", "Université de Liège", "Howest", "Thomas More",
                "Erasmushogeschool Brussel", "HOGENT", "AP Hogeschool", "TU Delft"]
DEGREES = [("Master of Science", 5), ("Bachelor of Science", 4), ("Professional Bachelor", 4),
           ("Master of Engineering", 3), ("PhD", 1), ("Master of Arts", 1),
           ("Secondary education diploma", 1)]
FIELDS = ["Computer Science", "Electrical Engineering", "Applied Informatics", "Mathematics",
          "Business Engineering", "Industrial Engineering", "Physics", "Statistics",
          "Economics", "Data Science", "Mechanical Engineering", "Bioinformatics"]
POSITIONS = ["Data engineer", "Software engineer", "Backend developer", "Frontend developer",
             "DevOps engineer", "Project manager", "Business analyst", "Data scientist",
             "Cloud architect", "Test engineer", "Embedded developer", "Product owner"]
SKILLS = ["Python", "SQL", "Java", "JavaScript", "Git", "Docker", "Linux", "Azure", "AWS",
          "Kubernetes", "TypeScript", "React", "C#", ".NET", "Spring", "PostgreSQL", "Scrum",
          "Terraform", "Kafka", "Spark", "Pandas", "Django", "Flask", "Angular", "Go", "Rust",
          "Scala", "Airflow", "Power BI", "Tableau", "SAP", "Salesforce", "Ansible", "Jenkins",
          "GraphQL", "MongoDB", "Redis", "Elasticsearch", "Snowflake", "dbt", "PyTorch",
          "TensorFlow", "OpenCV", "C++", "Embedded C", "VHDL", "MATLAB", "LabVIEW", "PLC",
          "Siemens TIA", "Kotlin", "Swift", "Flutter", "Vue", "Svelte", "Elixir", "Haskell",
          "OCaml", "Prolog", "COBOL", "Fortran", "Zig", "Nim", "Clojure", "Erlang"]
INTERESTS = ["cycling", "football", "running", "photography", "chess", "cooking", "music",
             "volunteering", "hiking", "board games", "open source", "climbing", "sailing"]
VERBS = ["Built", "Designed", "Maintained", "Migrated", "Led the team that delivered",
         "Automated", "Optimised", "Introduced"]
THINGS = ["a data platform", "the billing services", "a customer portal", "CI/CD pipelines",
          "an IoT gateway", "reporting dashboards", "a warehouse management system",
          "the mobile app", "a recommendation engine", "the event streaming backbone"]
SKILL_WEIGHTS = [1 / (rank + 1) ** 1.1 for rank in range(len(SKILLS))]
# As random.choices sums the weights on each call: summed once, the same draws.
_SKILL_CUM_WEIGHTS = list(accumulate(SKILL_WEIGHTS))
_DEGREES, _DEGREE_WEIGHTS = zip(*DEGREES, strict=True)
_DEGREE_CUM_WEIGHTS = list(accumulate(_DEGREE_WEIGHTS))


@dataclass(frozen=True)
class DemoPerson:
    data: CandidateInput
    pool: bool


def _wrapped(line: str, width: int = 95) -> list[str]:
    """Greedy word wrap of a line of single-spaced words, at the last space that fits
    (found in C: a loop over the words was most of the cost of a demo person, and
    textwrap more still)."""
    lines: list[str] = []
    while len(line) > width:
        cut = line.rfind(" ", 0, width + 1)
        if cut <= 0:  # a word longer than the width: alone on its line
            cut = line.find(" ", width + 1)
            if cut < 0:
                break
        lines.append(line[:cut])
        line = line[cut + 1:]
    lines.append(line)
    return lines


def text_pdf(text: str) -> bytes:
    """A small, valid, text-only PDF (Helvetica, one page) for a demo CV."""
    lines = [piece for line in text.splitlines()
             for piece in _wrapped(line)][:54]
    # Each line a string shown, then a line break: escaped and joined in one pass over
    # the whole text, not line by line (no line holds a newline: splitlines cut there).
    shown = ("(" + "\n".join(lines).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
             .replace("\n", ") Tj T* (") + ") Tj T*") if lines else ""
    stream = "BT /F1 10 Tf 50 800 Td 14 TL " + shown + " ET"
    data = stream.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


COMPANIES = ["a Ghent logistics firm", "a Brussels bank", "an Antwerp port operator",
             "a Leuven biotech start-up", "a public utility", "a retail chain", "an insurer",
             "a telecom operator", "a consultancy", "a hospital group"]
SUMMARIES = [
    "{position} with {years} years of experience in {domain}, who likes to turn vague "
    "requirements into working software and to share what I learn with the team.",
    "I am a {position} focused on reliable systems in {domain}; I enjoy pairing, code "
    "review and making slow things fast, and I value clear documentation.",
    "Curious {position} with a background in {domain}. I have worked in small teams and "
    "large programmes, in Dutch, French and English.",
]
PARTNERS = ["analysts", "operations", "product owners", "customers"]
DOMAINS = ["logistics", "banking", "healthcare", "energy", "e-commerce", "public services",
           "manufacturing", "telecommunications", "insurance", "media"]
LANGUAGES = ["Dutch (native)", "French (fluent)", "English (fluent)", "German (basic)",
             "Spanish (basic)", "Arabic (native)", "Italian (basic)"]


def _cv_text(rng: random.Random, name: str, position: str, skills: list[str]) -> str:
    """A CV of about 150 to 250 words: summary, experience, skills, languages."""
    lines = [name, position, "", "Profile",
             rng.choice(SUMMARIES).format(position=position.lower(), years=rng.randint(2, 20),
                                          domain=rng.choice(DOMAINS)), "", "Experience"]
    for _ in range(rng.randint(4, 7)):
        used = rng.sample(skills, k=min(len(skills), rng.randint(1, 3)))
        lines.append(f"{rng.randint(2005, 2025)}: {rng.choice(VERBS)} {rng.choice(THINGS)} "
                     f"for {rng.choice(COMPANIES)} with {', '.join(used)}, working closely "
                     f"with {rng.choice(PARTNERS)}.")
    lines += ["", "Skills", ", ".join(skills), "", "Languages",
              ", ".join(rng.sample(LANGUAGES, k=rng.randint(2, 3)))]
    return "\n".join(lines)


def person_rng(seed: int, number: int) -> random.Random:
    """Person `number`'s own random stream: the same person whatever else is drawn, so a
    run can be cut into batches made in any order (or process) and stay reproducible."""
    return random.Random(f"{seed}/{number}")  # noqa: S311 - fake data, not a secret


def people(count: int, seed: int = 1, *, pool_share: float = 0.4,
           with_files: bool = True, start: int = 0) -> Iterator[DemoPerson]:
    """People number start to start + count - 1 of the seed's fictitious pool."""
    for number in range(start, start + count):
        rng = person_rng(seed, number)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        email = (f"{first}.{last}.{number}@example.org".lower()
                 .replace(" ", "").replace("é", "e").replace("ë", "e"))
        position = rng.choice(POSITIONS)
        skills = sorted(set(rng.choices(SKILLS, cum_weights=_SKILL_CUM_WEIGHTS,
                                        k=rng.randint(3, 9))))
        text = _cv_text(rng, name, position, skills)
        education = tuple(
            EducationInput(rng.choices(_DEGREES, cum_weights=_DEGREE_CUM_WEIGHTS)[0],
                           rng.choice(FIELDS),
                           rng.choice(INSTITUTIONS), str(rng.randint(1995, 2025)))
            for _ in range(rng.randint(1, 2)))
        content = text_pdf(text) if with_files else b"%PDF-1.7 demo"
        yield DemoPerson(CandidateInput(
            full_name=name, email=email, phone=f"+32 4{rng.randint(70, 99)} "
            f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            position=position, age=str(rng.randint(21, 62)) if rng.random() < 0.3 else "",
            gender="", interests=", ".join(rng.sample(INTERESTS, k=2)), education=education,
            cv=DocumentInput(content=content, filename=f"cv-{last.lower()}.pdf",
                             media_type="application/pdf", extension="pdf", text=text,
                             has_text=True)),
            pool=rng.random() < pool_share)

"""A labelled corpus for search quality: CVs in English, Dutch and French, as DOCX and
PDF, with words placed in the body, tables, headers, footers, text boxes and across a
hyphenated line break; the words each CV must be found by; and recruiters' queries
with the CVs relevant to each.

Relevance is judged on what a CV says, in the query's language, whatever the form
(developer or developers; développeur or développeuse): a keyword search is not
asked to translate. Each CV lists the concepts it is about (`about`); a query names
the concept it asks for, and a CV is relevant exactly when it is about that concept.
Some CVs hold traps a naive search falls into: an e-mail at example.net without
.NET, "Date de naissance" beside a query for data, a project manager's "software
development" beside a query for developers.

Used by tests/services/test_search_quality.py and benchmarks/search_quality.py.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from docx import Document
from docx.oxml import parse_xml

# Places a word can sit in; those the upload side must extract for the word to count.
PLACES = ("body", "table", "header", "footer", "textbox", "hyphenated")


@dataclass(frozen=True)
class CV:
    key: str
    language: str
    fmt: str  # "docx" or "pdf"
    full_name: str
    email: str
    position: str
    body: tuple[str, ...]
    table: tuple[tuple[str, str], ...] = ()
    header: str = ""
    footer: str = ""
    textbox: str = ""
    hyphenated: tuple[str, str] = ("", "")  # (line ending in "-", next line); PDF only
    placed: dict[str, str] = field(default_factory=dict)  # query word -> place
    about: frozenset[str] = frozenset()


CVS: tuple[CV, ...] = (
    CV("en-csharp", "en", "docx", "Oliver Grant", "oliver.grant@example.org",
       "Senior software developer",
       body=("Senior developer with eight years of experience building trading platforms "
             "in C# and .NET.",
             "Northwind Capital, 2019 to 2024: led three developers on ASP.NET Core services "
             "backed by SQL Server; introduced CI/CD pipelines with Azure DevOps.",
             "Contoso Freight, 2015 to 2019: maintained a C++ pricing engine, later "
             "rewritten in F#."),
       table=(("Languages", "C#, F#, C++, TypeScript"), ("Databases", "SQL Server, Postgres"),
              ("Tools", "Docker, Azure DevOps, Git")),
       header="Oliver Grant, curriculum vitae, Leeds, Quendrith House",
       footer="References from Halvorsen Trading on request",
       textbox="Certified Azure developer, open to contract roles in Kirkstall",
       placed={"trading": "body", "c#": "body", "f#": "table", "typescript": "table",
               "quendrith": "header", "leeds": "header", "halvorsen": "footer",
               "kirkstall": "textbox"},
       about=frozenset({"developer", "csharp", "dotnet", "sqlserver", "postgresql", "cpp",
                        "typescript", "docker", "azure", "cicd"})),
    CV("en-data", "en", "pdf", "Priya Raman", "priya.raman@example.net", "Data engineer",
       body=("Data engineer building streaming pipelines with Python, Kafka and Spark.",
             "Moved the reporting warehouse from Oracle to PostgreSQL and wrote the dbt "
             "models on top of it.",
             "Before that, three years as a Java developer at a logistics company in "
             "Rotterdam."),
       table=(("Cloud", "AWS, Terraform, Kubernetes"), ("Languages", "Python, Java, SQL")),
       header="PRIYA RAMAN | DATA ENGINEER | Marlowvale",
       footer="priya.raman@example.net | https://example.net/priya | Tessering Lane 4",
       hyphenated=("Scheduled the batch jobs with Airflow and owned their orches-",
                   "tration across four teams."),
       placed={"kafka": "body", "spark": "body", "rotterdam": "body",
               "terraform": "table", "marlowvale": "header", "tessering": "footer",
               "orchestration": "hyphenated", "dbt": "body"},
       about=frozenset({"data", "dataengineer", "python", "kafka", "postgresql", "java",
                        "developer", "aws", "kubernetes", "airflow", "sql", "terraform"})),
    CV("en-pm", "en", "docx", "Thomas Becker", "t.becker@example.org", "Project manager",
       body=("Project manager for software development programmes in the energy sector.",
             "Ran the migration of the customer portal at Ørsted with a budget of four "
             "million euro; coordinated suppliers and the business.",
             "Scrum master for two teams; prepared the steering committee reporting."),
       table=(("Methods", "Scrum, PRINCE2, Kanban"), ("Tools", "Jira, Confluence, Excel")),
       header="Thomas Becker, project and programme management",
       footer="Member of the Vellmoor project society",
       textbox="PMP certified since 2016, Brindlecote chapter",
       placed={"ørsted": "body", "steering": "body", "prince2": "table", "jira": "table",
               "vellmoor": "footer", "brindlecote": "textbox", "budget": "body",
               "programme": "header"},
       about=frozenset({"projectmanager", "orsted", "scrum", "excel"})),
    CV("en-web", "en", "pdf", "Søren Østergaard", "soren.ostergaard@example.org",
       "Full-stack developer",
       body=("Full-stack developer: Node.js and React on the front, Go and PostgreSQL "
             "behind.",
             "Built the booking engine of a Copenhagen ferry line; JavaScript since 2012.",
             "Mentors junior developers and runs the Kubernetes platform for the team."),
       table=(("Front end", "React, TypeScript, JS"), ("Back end", "Node.js, Go, Postgres")),
       header="Søren Østergaard, developer, Aarhus",
       footer="Tracked on mœlquix.org as sorenost",
       hyphenated=("Reduced page load times by half with server-side render-",
                   "ing and careful caching."),
       placed={"ostergaard": "header", "copenhagen": "body", "ferry": "body",
               "react": "table", "aarhus": "header", "moelquix": "footer",
               "rendering": "hyphenated", "node.js": "body"},
       about=frozenset({"developer", "nodejs", "javascript", "postgresql", "react",
                        "typescript", "kubernetes", "fullstack"})),
    CV("nl-java", "nl", "docx", "Pieter Vermeulen", "pieter.vermeulen@example.org",
       "Senior Javaontwikkelaar",
       body=("Javaontwikkelaar met tien jaar ervaring in de bank- en verzekeringssector.",
             "Bij Argenta bouwde ik met een team van vijf ontwikkelaars de nieuwe "
             "betaalmodule in Java en Spring Boot, met een Oracle-databank.",
             "Daarvoor was ik C#-ontwikkelaar bij een softwarehuis in Gent."),
       table=(("Talen", "Java, Kotlin, C#"), ("Databanken", "Oracle, SQL Server")),
       header="Pieter Vermeulen, Mechelen",
       footer="Lid van de Javagroep Zwartelbeke",
       textbox="Beschikbaar vanaf januari, voorkeur Lier of Duffel",
       placed={"argenta": "body", "betaalmodule": "body", "kotlin": "table",
               "mechelen": "header", "zwartelbeke": "footer", "duffel": "textbox",
               "verzekeringssector": "body", "spring": "body"},
       about=frozenset({"ontwikkelaar", "java", "javaontwikkelaar", "csharp", "sqlserver",
                        "springboot"})),
    CV("nl-ops", "nl", "pdf", "Fien Claes", "fien.claes@example.org", "Systeembeheerder",
       body=("Systeembeheerder voor een netwerk van twaalf ziekenhuizen in Limburg.",
             "Beheer van Linux- en Windows-servers, back-ups en de migratie naar "
             "Kubernetes.",
             "Automatiseerde de uitrol van updates met Ansible en PowerShell."),
       table=(("Systemen", "Linux, Windows Server, VMware"),
              ("Automatisering", "Ansible, PowerShell, Terraform")),
       header="Fien Claes, Hasselt, systeembeheer",
       footer="Certificaten: RHCSA, CKA, Vordenmaat",
       hyphenated=("Verantwoordelijk voor de netwerkbeveili-",
                   "ging van alle sites."),
       placed={"limburg": "body", "ziekenhuizen": "body", "ansible": "body",
               "vmware": "table", "hasselt": "header", "vordenmaat": "footer",
               "netwerkbeveiliging": "hyphenated", "powershell": "table"},
       about=frozenset({"beheerder", "linux", "kubernetes", "ansible", "terraform"})),
    CV("nl-lead", "nl", "docx", "Lotte De Smet", "lotte.desmet@example.org", "Projectleider",
       body=("Projectleider bij een energiebedrijf, verantwoordelijk voor de "
             "softwareontwikkeling van het klantenportaal.",
             "Stuurde drie externe ontwikkelteams aan en bewaakte budget en planning.",
             "Werkte eerder als bedrijfsanalist bij een verzekeraar in Antwerpen."),
       table=(("Methodes", "Scrum, Kanban, Prince2"), ("Talen", "Nederlands, Frans, Engels")),
       header="Lotte De Smet, Antwerpen",
       footer="Vrijwilliger bij Oostrandhoeve",
       textbox="Gecertificeerd Scrum Master sinds 2018",
       placed={"energiebedrijf": "body", "klantenportaal": "body", "kanban": "table",
               "antwerpen": "body", "oostrandhoeve": "footer", "gecertificeerd": "textbox",
               "bedrijfsanalist": "body", "planning": "body"},
       about=frozenset({"projectleider", "analist", "scrum"})),
    CV("nl-care", "nl", "pdf", "Hanne Willems", "hanne.willems@example.org",
       "Verpleegkundige",
       body=("Verpleegkundige op de afdeling intensieve zorg van het UZ Leuven.",
             "Coördineerde het team van nachtverpleegkundigen en de opleiding van "
             "stagiairs.",
             "Houdt de boekhouding bij van de vzw Zorgkring Heverlee."),
       table=(("Diploma", "Bachelor in de verpleegkunde"), ("Talen", "Nederlands, Engels")),
       header="Hanne Willems, verpleegkundige, Leuven",
       footer="Vaccinaties en EHBO-lesgever bij Krimpelbos",
       hyphenated=("Specialisatie in pediatrische intensieve zorg en beade-",
                   "ming van kinderen."),
       placed={"intensieve": "body", "stagiairs": "body", "heverlee": "body",
               "verpleegkunde": "table", "leuven": "header", "krimpelbos": "footer",
               "beademing": "hyphenated", "nachtverpleegkundigen": "body"},
       about=frozenset({"verpleegkundige"})),
    CV("fr-dev", "fr", "docx", "Chloé Lefèvre", "chloe.lefevre@example.org",
       "Développeuse .NET",
       body=("Développeuse .NET depuis six ans, spécialisée dans les applications "
             "métier pour le secteur public.",
             "Chez Ethias, j'ai encadré deux développeurs juniors sur une refonte en "
             "ASP.NET Core et SQL Server.",
             "Auparavant développeuse Java dans une société de conseil à Namur."),
       table=(("Langages", "C#, Java, JavaScript"), ("Bases de données", "SQL Server, "
                                                                        "PostgreSQL")),
       header="Chloé Lefèvre, Namur",
       footer="Membre de l'association Quervallon",
       textbox="Disponible pour des missions à Liège ou Wavre",
       placed={"ethias": "body", "refonte": "body", "public": "body",
               "javascript": "table", "namur": "header", "quervallon": "footer",
               "wavre": "textbox", "juniors": "body"},
       about=frozenset({"developpeur", "dotnet", "csharp", "sqlserver", "java",
                        "javascript", "postgresql"})),
    CV("fr-ing", "fr", "pdf", "Maxime Dubois", "maxime.dubois@example.org",
       "Ingénieur électricien",
       body=("Ingénieur électricien, dix ans dans la conception de sous-stations pour "
             "Elia.",
             "Date de naissance : 4 mars 1985. Permis B.",
             "Programmation d'automates Siemens et développement de scripts Python pour "
             "les essais."),
       table=(("Outils", "EPLAN, AutoCAD, MATLAB"), ("Langues", "français, néerlandais")),
       header="Maxime Dubois, Charleroi",
       footer="Président du club Ravendelle",
       hyphenated=("Responsable de la mise en service des installa-",
                   "tions haute tension."),
       placed={"elia": "body", "automates": "body", "siemens": "body", "eplan": "table",
               "charleroi": "header", "ravendelle": "footer",
               "installations": "hyphenated", "matlab": "table"},
       about=frozenset({"ingenieur", "python"})),
    CV("fr-compta", "fr", "docx", "Inès Benali", "ines.benali@example.org",
       "Comptable",
       body=("Comptable dans une fiduciaire à Bruxelles : clôtures mensuelles, TVA et "
             "déclarations fiscales pour une quarantaine de PME.",
             "Mise en place de tableaux de bord dans Power BI et Excel.",
             "Formation continue en fiscalité internationale."),
       table=(("Logiciels", "Winbooks, SAP, Excel"), ("Langues", "français, anglais")),
       header="Inès Benali, Bruxelles",
       footer="Trésorière de l'ASBL Mervillon",
       textbox="Disponible immédiatement",
       placed={"fiduciaire": "body", "tva": "body", "pme": "body", "winbooks": "table",
               "bruxelles": "body", "mervillon": "footer", "immediatement": "textbox",
               "fiscalite": "body"},
       about=frozenset({"comptable", "powerbi", "excel", "sap"})),
    CV("fr-care", "fr", "pdf", "Julie Renard", "julie.renard@example.org", "Infirmière",
       body=("Infirmière en soins intensifs au CHU de Liège depuis 2014.",
             "Référente pour la formation des infirmières stagiaires et pour la "
             "pharmacovigilance du service.",
             "Tient la comptabilité de l'association sportive de Chênée."),
       table=(("Diplôme", "Bachelier infirmier responsable de soins généraux"),
              ("Langues", "français, allemand")),
       header="Julie Renard, Liège",
       footer="Bénévole à la Croix-Rouge de Tilquemont",
       hyphenated=("Spécialisée en réanimation et en ventila-",
                   "tion des patients."),
       placed={"soins": "body", "pharmacovigilance": "body", "chenee": "body",
               "bachelier": "table", "liege": "header", "tilquemont": "footer",
               "ventilation": "hyphenated", "stagiaires": "body"},
       about=frozenset({"infirmier"})),
)

# Recruiters' queries, each with the concept it asks for.
QUERIES: tuple[tuple[str, str], ...] = (
    ("c#", "csharp"), ("C#", "csharp"), ("c++", "cpp"), (".net", "dotnet"),
    (".NET", "dotnet"), ("postgres", "postgresql"), ("PostgreSQL", "postgresql"),
    ("nodejs", "nodejs"), ("node.js", "nodejs"), ("sqlserver", "sqlserver"),
    ("sql server", "sqlserver"), ("developer", "developer"), ("developers", "developer"),
    ("développeur", "developpeur"), ("développeuse", "developpeur"),
    ("développeurs", "developpeur"), ("ontwikkelaar", "ontwikkelaar"),
    ("ontwikkelaars", "ontwikkelaar"), ("javaontwikkelaar", "javaontwikkelaar"),
    ("Ørsted", "orsted"), ("orsted", "orsted"), ("java", "java"), ("python", "python"),
    ("javascript", "javascript"), ("js", "javascript"), ("kubernetes", "kubernetes"),
    ("k8s", "kubernetes"), ("typescript", "typescript"), ("react", "react"),
    ("data engineer", "dataengineer"), ("data", "data"), ("project manager", "projectmanager"),
    ("projectleider", "projectleider"), ("systeembeheerder", "beheerder"),
    ("beheerder", "beheerder"), ("analist", "analist"), ("verpleegkundige",
                                                          "verpleegkundige"),
    ("infirmière", "infirmier"), ("infirmier", "infirmier"), ("comptable", "comptable"),
    ("ingénieur", "ingenieur"), ("power bi", "powerbi"), ("scrum", "scrum"),
    ("terraform", "terraform"), ("ansible", "ansible"), ("excel", "excel"),
)


# --- Files -------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TEXTBOX = (
    # As Word writes a text box: a DrawingML shape, with a VML copy for old readers.
    '<w:r xmlns:w="{w}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
    ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    ' xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent>'
    '<mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0"'
    ' simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1"'
    ' allowOverlap="1"><wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column">'
    '<wp:posOffset>0</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph">'
    '<wp:posOffset>0</wp:posOffset></wp:positionV><wp:extent cx="2000000" cy="500000"/>'
    '<wp:wrapNone/><wp:docPr id="1" name="Text Box 1"/><a:graphic><a:graphicData'
    ' uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
    '<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="2000000" cy="500000"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr><wps:txbx><w:txbxContent>'
    '<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></wps:txbx><wps:bodyPr/>'
    '</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
    '<mc:Fallback><w:pict><v:shape style="width:160pt;height:40pt"><v:textbox>'
    '<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></v:textbox>'
    '</v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx_bytes(cv: CV) -> bytes:
    document = Document()
    section = document.sections[0]
    if cv.header:
        section.header.paragraphs[0].text = cv.header
    if cv.footer:
        section.footer.paragraphs[0].text = cv.footer
    document.add_heading(cv.full_name, level=1)
    document.add_paragraph(cv.position)
    for paragraph in cv.body:
        document.add_paragraph(paragraph)
    if cv.table:
        table = document.add_table(rows=0, cols=2)
        for label, value in cv.table:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value
    if cv.textbox:
        paragraph = document.add_paragraph()
        paragraph._p.append(parse_xml(_TEXTBOX.format(w=_W, text=_escape(cv.textbox))))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(cv: CV) -> bytes:
    """A PDF as a word processor prints one: a header and a footer on the page, body
    lines, a two-column table, a word broken over two lines with a hyphen."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    _width, height = A4
    canvas.setFont("Helvetica", 8)
    if cv.header:
        canvas.drawString(56, height - 36, cv.header)
    if cv.footer:
        canvas.drawString(56, 30, cv.footer)
    y = height - 90
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(56, y, cv.full_name)
    y -= 20
    canvas.setFont("Helvetica", 10)
    lines = [cv.position, *_wrapped(cv.body, 95)]
    if cv.hyphenated[0]:
        lines += list(cv.hyphenated)
    for line in lines:
        canvas.drawString(56, y, line)
        y -= 14
    y -= 10
    for label, value in cv.table:
        canvas.drawString(56, y, label)
        canvas.drawString(200, y, value)
        y -= 14
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _wrapped(paragraphs: Iterable[str], width: int) -> list[str]:
    import textwrap

    return [line for p in paragraphs for line in textwrap.wrap(p, width)]


def file_of(cv: CV) -> tuple[bytes, str]:
    if cv.fmt == "docx":
        return docx_bytes(cv), f"{cv.key}.docx"
    return pdf_bytes(cv), f"{cv.key}.pdf"


def place_text(cv: CV, place: str) -> str:
    return {"body": " ".join(cv.body), "table": " ".join(" ".join(r) for r in cv.table),
            "header": cv.header, "footer": cv.footer, "textbox": cv.textbox,
            "hyphenated": cv.hyphenated[0].removesuffix("-") + cv.hyphenated[1]}[place]


# --- Measures ----------------------------------------------------------------------

@dataclass(frozen=True)
class Quality:
    placed_found: int
    placed_total: int
    relevant_found: int
    relevant_total: int
    wrong: int
    missed_words: list[tuple[str, str, str]]  # (cv key, word, place)
    missed_relevant: list[tuple[str, str]]  # (query, cv key)
    wrong_results: list[tuple[str, str]]  # (query, cv key)

    @property
    def placed_share(self) -> float:
        return self.placed_found / self.placed_total

    @property
    def recall(self) -> float:
        return self.relevant_found / self.relevant_total


def relevant(concept: str) -> set[str]:
    return {cv.key for cv in CVS if concept in cv.about}


def measure(find: Callable[[str], set[str]],
            ready: Iterable[tuple[str, str]] | None = None) -> Quality:
    """Placed words and natural queries through `find` (query -> CV keys found); only
    the placed words in `ready` places ((format, place) pairs) when given."""
    wanted = None if ready is None else set(ready)
    missed_words = []
    placed = [(cv, word, place) for cv in CVS for word, place in cv.placed.items()
              if wanted is None or (cv.fmt, place) in wanted]
    for cv, word, place in placed:
        if cv.key not in find(word):
            missed_words.append((cv.key, word, place))
    missed, wrong, found_total, relevant_total = [], [], 0, 0
    for q, concept in QUERIES:
        expected = relevant(concept)
        found = find(q)
        relevant_total += len(expected)
        found_total += len(expected & found)
        missed += [(q, key) for key in sorted(expected - found)]
        wrong += [(q, key) for key in sorted(found - expected)]
    return Quality(len(placed) - len(missed_words), len(placed), found_total, relevant_total,
                   len(wrong), missed_words, missed, wrong)


def fts5_finder(texts: dict[str, str], tokenizer: str) -> Callable[[str], set[str]]:
    """Plain SQLite FTS5 over the same texts: the words of a query ANDed, as typed."""
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE VIRTUAL TABLE cv USING fts5(key UNINDEXED, body, "
                       f"tokenize='{tokenizer}')")
    connection.executemany("INSERT INTO cv VALUES (?, ?)", texts.items())

    def find(q: str) -> set[str]:
        # Each whitespace-separated word quoted (FTS5 then tokenises it as the text).
        words = [w.replace('"', '""') for w in q.split()]
        if not words:
            return set()
        expression = " AND ".join(f'"{w}"' for w in words)
        return {key for (key,) in connection.execute(
            "SELECT key FROM cv WHERE cv MATCH ?", (expression,))}

    return find

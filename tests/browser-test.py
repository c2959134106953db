#!/usr/bin/env python3
"""browser-test.py: the run report and `galley explain --html` opened in a
real browser (headless Chromium), as a user would see them.

  browser-test.py report    a run over the sample articles writes its
                            report; the page Chromium renders holds every
                            stage with its counts from the stats file and
                            highlighted entities, and logs no console
                            message; a screenshot is kept under the build
                            directory (tests/browser/report.png)
  browser-test.py explain   the same for `galley explain --html` on one
                            article (tests/browser/explain.png)

Exits 77 (skipped) when no chromium is installed
(scripts/install-deps.sh --browser installs it).
"""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


class Page(html.parser.HTMLParser):
    """The text of a page, its table rows and its highlighted mentions."""

    def __init__(self):
        super().__init__()
        self.text = []
        self.rows = []
        self.row = None
        self.cell = None
        self.marks = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "style":
            self.in_style = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "mark":
            self.marks.append((a.get("class", ""), a.get("title", "")))

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.in_style:
            return
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browser(chromium, tmp, url, *args):
    """Runs headless Chromium; returns (stdout, the console lines it logged)."""
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + os.path.join(tmp, "profile"), "--enable-logging=stderr",
           "--log-level=0", *args, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                       env=dict(os.environ, HOME=tmp))
    if r.returncode != 0:
        fail("chromium exited %d: %s" % (r.returncode, r.stderr[-2000:]))
    console = [l for l in r.stderr.splitlines() if ":CONSOLE" in l or "Failed to load" in l
               or "net::ERR_" in l]
    return r.stdout, console


def render(chromium, tmp, path, shot):
    url = "file://" + os.path.abspath(path)
    dom, console = browser(chromium, tmp, url, "--dump-dom")
    if console:
        fail("console messages while loading %s:\n%s" % (path, "\n".join(console)))
    page = Page()
    page.feed(dom)
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    if os.path.exists(shot):
        os.unlink(shot)
    browser(chromium, tmp, url, "--screenshot=" + shot, "--window-size=1280,3000",
            "--hide-scrollbars")
    with open(shot, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n" or os.path.getsize(shot) < 10000:
        fail("no screenshot in %s" % shot)
    return page


def galley(args, cwd):
    exe = os.environ.get("GALLEY_EXE", "galley")
    r = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        fail("galley %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def write_pipeline(tmp, root):
    articles = os.path.join(root, "examples", "articles")
    with open(os.path.join(tmp, "articles.pipeline"), "w") as f:
        f.write("[pipeline]\nstages=articles;repair;strip;dedup;entities;output\n"
                "stats=run.stats.json\nrejects=run.rejects.jsonl\nreport=run.html\n\n"
                "[stage articles]\nplugin=files\npaths=%s\nexclude=.*;*~;README.md\n\n"
                "[stage repair]\nplugin=repair\n\n[stage strip]\nplugin=strip\n\n"
                "[stage dedup]\nplugin=dedup\nmode=annotate\n\n[stage entities]\nplugin=entities\n\n"
                "[stage output]\nplugin=export-jsonl\npath=out.jsonl\n" % articles)


def check_entities(page):
    people = [t for c, t in page.marks if c == "PER" and t.startswith("PER: ")]
    if not people:
        fail("no highlighted person (mark class=PER with title=\"PER: name\") in the rendered page")
    return people


def test_report(chromium, tmp, root, shots):
    write_pipeline(tmp, root)
    galley(["run", "articles.pipeline"], tmp)
    with open(os.path.join(tmp, "run.stats.json")) as f:
        stats = json.load(f)
    page = render(chromium, tmp, os.path.join(tmp, "run.html"), os.path.join(shots, "report.png"))
    text = " ".join("".join(page.text).split())
    if "galley run report: articles" not in text:
        fail("the title is not in the rendered text")
    rows = {r[0]: r for r in page.rows if len(r) >= 9}
    for s in stats["stages"]:
        row = rows.get(s["id"])
        if row is None:
            fail("stage %s has no row in the rendered stage table" % s["id"])
        dropped = sum(s["dropped"].values())
        want = [str(s["in"]), str(s["kept"]), str(dropped)]
        if row[2:5] != want or row[6] != str(s["failed"]):
            fail("stage %s: the table shows %s, the stats say in/kept/dropped %s failed %d"
                 % (s["id"], row, want, s["failed"]))
        for reason, n in s["dropped"].items():
            if "%s %d" % (reason, n) not in row[5]:
                fail("stage %s: drop reason %s %d not shown" % (s["id"], reason, n))
    for heading in ("Summary", "Stages", "What each stage did"):
        if heading not in text:
            fail("section %s missing from the rendered page" % heading)
    passages = 0
    for s in stats["stages"]:
        for sample in s.get("samples", []):
            for note in sample.get("notes", []):
                if note.get("kind") != "pair" or "passage" not in note:
                    continue
                label = "Shared passage (%d of this document's %d sentences" % (note["shared"], note["sentences"])
                start = " ".join(note["passage"].split())[:80]
                if label not in text or start not in text:
                    fail("stage %s, %s: the shared passage is not shown" % (s["id"], sample["id"]))
                passages += 1
    if passages == 0:
        fail("no duplicate with its shared passage among the samples")
    people = check_entities(page)
    print("report: %d stages, %d shared passages, %d highlighted mentions (%d people), screenshot %s"
          % (len(stats["stages"]), passages, len(page.marks), len(people), os.path.join(shots, "report.png")))


def test_explain(chromium, tmp, root, shots):
    write_pipeline(tmp, root)
    article = os.path.join(root, "examples", "articles", "05-chip-factory-mojibake-cp1252.txt")
    galley(["explain", "articles.pipeline", "--input", article, "--html", "-o", "explain.html"], tmp)
    page = render(chromium, tmp, os.path.join(tmp, "explain.html"), os.path.join(shots, "explain.png"))
    text = " ".join("".join(page.text).split())
    for stage in ("repair", "strip", "dedup", "entities"):
        if "%s (%s)" % (stage, stage) not in text:
            fail("stage %s missing from the rendered explain page" % stage)
    if "Result: kept after 4 stages." not in text:
        fail("the result line is missing from the rendered explain page")
    check_entities(page)
    print("explain: 4 stages, %d highlighted mentions, screenshot %s"
          % (len(page.marks), os.path.join(shots, "explain.png")))


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("report", "explain"):
        print("usage: browser-test.py report|explain", file=sys.stderr)
        return 64
    chromium = find_chromium()
    if chromium is None:
        print("SKIP: chromium is not installed (scripts/install-deps.sh --browser)")
        return SKIP
    root = os.environ.get("GALLEY_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), ".."))
    shots = os.path.join(os.environ.get("G_TEST_BUILDDIR", "."), "browser")
    with tempfile.TemporaryDirectory() as tmp:
        (test_report if sys.argv[1] == "report" else test_explain)(chromium, tmp, root, shots)
    return 0


if __name__ == "__main__":
    sys.exit(main())

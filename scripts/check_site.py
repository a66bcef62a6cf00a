"""Check the built documentation site, in its HTML and in a real (headless) browser.

    python scripts/check_site.py                      # build into a temporary directory
    python scripts/check_site.py --site site --screenshots /tmp/shots

What it checks, on every page:

- no raw Sphinx role markers (``:func:``, ``:class:`` ...) in the text;
- every "Returns" table has one row and no sentence word (``A``, ``The``) as its type;
- every internal link, image, stylesheet and script exists, and every ``#anchor`` too;
- nothing loads from another host (no web fonts, scripts or stylesheets: the site must
  work offline); CSS files import nothing remote either;
- in Chromium (``chromium --headless``, skipped with ``--no-browser`` or when absent):
  every image loads, no table is wider than the text column, the smallest text in each
  generated plot is at least ``MIN_FONT_PX`` page pixels at the width it is shown
  (the plots record their smallest font and resolution in PNG text chunks), and the
  page makes no request to another host (all other hosts are unresolvable for it).
  A screenshot of each page goes to ``--screenshots``.

Exit status 0 when every check passes; the problems are printed otherwise.
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
#: Smallest text allowed in a plot, in CSS pixels on the page.
MIN_FONT_PX = 11
#: Viewport of the browser checks and screenshots (a common laptop screen).
VIEWPORT = (1280, 2400)
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|data|attr|mod|exc|obj|const):")
SENTENCE_WORDS = {"a", "an", "the", "one", "for", "with", "what", "where"}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")

# Run in each page by the browser: results go into a <pre> that --dump-dom prints.
_PROBE = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const article = document.querySelector("article") || document.body;
  const column = article.getBoundingClientRect();
  const r = {column: column.width, images: [], wide_tables: [], requests: []};
  for (const img of article.querySelectorAll("img")) {
    r.images.push({src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0,
                   natural: img.naturalWidth, shown: img.getBoundingClientRect().width});
  }
  for (const table of article.querySelectorAll("table")) {
    const box = table.getBoundingClientRect();
    // Material's table wrapper reaches 0.8rem into the padding of the column.
    if (box.right > column.right + 17 || table.scrollWidth > table.clientWidth + 1) {
      r.wide_tables.push({width: box.width, text: table.innerText.slice(0, 80)});
    }
  }
  for (const e of performance.getEntriesByType("resource")) {
    if (!e.name.startsWith(location.origin)) r.requests.push(e.name);
  }
  const out = document.createElement("pre");
  out.id = "textzoo-check";
  out.textContent = JSON.stringify(r);
  document.body.appendChild(out);
}, 500));
</script>
"""


def main(argv: list[str] | None = None) -> int:
    """Build (or take) the site, run every check, print the problems."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one)")
    parser.add_argument("--screenshots", type=Path, help="write a PNG of each page here")
    parser.add_argument("--no-browser", action="store_true", help="only the HTML checks")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or build_site(Path(tmp) / "site")
        findings = check_site(site, screenshots=args.screenshots, browser=not args.no_browser)
    if args.json:
        print(json.dumps(findings, indent=2))
    for problem in findings["problems"]:
        print(f"PROBLEM {problem}")
    print(
        f"{findings['pages']} pages, {len(findings['problems'])} problems"
        + (f", browser: {findings['browser']}" if findings["browser"] else ", no browser")
    )
    return 1 if findings["problems"] else 0


def build_site(out: Path) -> Path:
    """``mkdocs build --strict`` into ``out``, from outside the repository."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-q",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(out),
        ],
        check=True,
        cwd=out.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


def find_browser() -> str | None:
    """The Chromium (or Chrome) executable, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def check_site(site: Path, *, screenshots: Path | None = None, browser: bool = True) -> dict:
    """Every check on ``site``: ``{"pages", "problems", "browser", "plots"}``."""
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    problems: list[str] = []
    ids = {p: _Page.parse(p).ids for p in pages}
    for page in pages:
        problems += check_html(site, page, ids)
    problems += check_css(site)
    findings = {"pages": len(pages), "problems": problems, "browser": None, "plots": []}
    exe = find_browser() if browser else None
    if exe:
        findings["browser"] = exe
        with serve(site) as base:
            for page in pages:
                rel = page.relative_to(site).as_posix()
                url = base + "/" + rel.removesuffix("index.html")
                shot = None
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    shot = screenshots / (
                        rel.removesuffix("/index.html")
                        .replace("/", "_")
                        .removesuffix(".html")
                        .replace("index", "home")
                        + ".png"
                    )
                probe, page_problems = check_in_browser(exe, site, url, rel, shot)
                problems += page_problems
                findings["plots"] += probe.get("plots", [])
    return findings


# --- HTML checks ---------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.text: list[str] = []
        self._skip = 0

    @classmethod
    def parse(cls, path: Path) -> _Page:
        page = cls()
        page.feed(path.read_text(encoding="utf-8"))
        return page

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "link" and attrs.get("rel") in ("canonical", "alternate"):
            tag = "a"  # names the page's public address; loads nothing
        for attr in ("href", "src"):
            if attrs.get(attr) is not None:
                self.refs.append((tag, attr, attrs[attr]))

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def check_html(site: Path, page: Path, ids: dict[Path, set[str]]) -> list[str]:
    """The static checks of one page (roles, Returns tables, links, remote resources)."""
    rel = page.relative_to(site).as_posix()
    parsed = _Page.parse(page)
    problems = []
    text = " ".join(parsed.text)
    for match in ROLE.finditer(text):
        context = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
        problems.append(f"{rel}: raw Sphinx role {match.group()!r} in '...{context}...'")
    problems += check_returns_tables(rel, page.read_text(encoding="utf-8"))
    base = "/" + rel
    for tag, attr, value in parsed.refs:
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") or value.startswith("//"):
            if tag != "a":  # a link to elsewhere is fine; loading from elsewhere is not
                problems.append(f"{rel}: <{tag} {attr}> loads from another host: {value}")
            continue
        if parts.scheme or (not parts.path and not parts.fragment):
            continue  # mailto:, data:, javascript:, empty
        target_url = urljoin(base, unquote(parts.path)) if parts.path else base
        target = site / target_url.lstrip("/")
        if target_url.endswith("/") or target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"{rel}: <{tag} {attr}={value!r}> points to a missing file")
            continue
        if parts.fragment and target.suffix == ".html":
            known = ids.get(target) or _Page.parse(target).ids
            if unquote(parts.fragment) not in known:
                problems.append(f"{rel}: <{tag} {attr}={value!r}>: no such anchor")
    return problems


def check_returns_tables(rel: str, page_html: str) -> list[str]:
    """A "Returns" table has one row whose type cell is a type, not a sentence's word."""
    problems = []
    for match in re.finditer(
        r'doc-section-title">Returns:</span>.*?<tbody>(.*?)</tbody>', page_html, re.S
    ):
        rows = re.findall(r"<tr.*?</tr>", match.group(1), re.S)
        if len(rows) != 1:
            first = html.unescape(re.sub(r"<[^>]+>|\s+", " ", rows[0]))[:80] if rows else ""
            problems.append(f"{rel}: a Returns table has {len(rows)} rows: '{first.strip()}'")
        for row in rows:
            cells = re.findall(r"<td.*?>(.*?)</td>", row, re.S)
            kind = html.unescape(re.sub(r"<[^>]+>", "", cells[0])).strip() if cells else ""
            words = html.unescape(re.sub(r"<[^>]+>", " ", cells[-1])).split() or [""]
            if kind.lower() in SENTENCE_WORDS or words[0].rstrip(":") in ROLE_NAMES:
                problems.append(
                    f"{rel}: a Returns table's type is {kind!r}: {' '.join(words)[:60]}"
                )
    return problems


ROLE_NAMES = {"func", "class", "meth", "data", "attr", "mod", "exc", "obj", "const"}


def check_css(site: Path) -> list[str]:
    """No stylesheet imports fonts or anything else from another host."""
    problems = []
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for match in re.finditer(r"(@import\s+url\(|url\()\s*['\"]?(https?:)?//[^)'\"]+", text):
            problems.append(f"{css.relative_to(site)}: loads from another host: {match.group()}")
    return problems


# --- browser checks ------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site, with the probe script added to each HTML page."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


class serve:  # noqa: N801 - used as a context manager, like open()
    """Serve ``site`` on a free local port for the duration of a ``with`` block."""

    def __init__(self, site: Path):
        handler = functools.partial(_Handler, directory=str(site))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _chromium(exe: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                exe,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                f"--user-data-dir={profile}",
                # Offline: every host but this machine is unresolvable.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
                "--virtual-time-budget=8000",
                *extra,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


def check_in_browser(
    exe: str, site: Path, url: str, rel: str, screenshot: Path | None
) -> tuple[dict, list[str]]:
    """Load ``url`` in Chromium; the probe's findings and the problems they show."""
    result = _chromium(exe, url, "--dump-dom")
    match = re.search(r'<pre id="textzoo-check">(.*?)</pre>', result.stdout, re.S)
    if not match:
        return {}, [f"{rel}: the browser did not finish loading the page ({result.stderr[-300:]})"]
    probe = json.loads(html.unescape(match.group(1)))
    problems = [f"{rel}: the browser requested another host: {r}" for r in probe["requests"]]
    for table in probe["wide_tables"]:
        problems.append(
            f"{rel}: a table is wider than the {probe['column']:.0f} px column "
            f"({table['width']:.0f} px): {table['text']!r}"
        )
    probe["plots"] = []
    for image in probe["images"]:
        if not image["loaded"]:
            problems.append(f"{rel}: image {image['src']} does not load")
            continue
        path = site / urljoin("/" + rel, image["src"]).lstrip("/")
        chunks = png_text(path) if path.suffix == ".png" and path.is_file() else {}
        if "textzoo-min-font-pt" in chunks:
            pt, dpi = float(chunks["textzoo-min-font-pt"]), float(chunks["textzoo-dpi"])
            px = pt * dpi / 72 * image["shown"] / image["natural"]
            probe["plots"].append({"page": rel, "image": image["src"], "min_font_px": px})
            if px < MIN_FONT_PX:
                problems.append(
                    f"{rel}: the smallest text of {image['src']} is {px:.1f} px on the page "
                    f"(shown {image['shown']:.0f} of {image['natural']} px; at least "
                    f"{MIN_FONT_PX} px needed)"
                )
    if screenshot is not None:
        _chromium(exe, url, f"--screenshot={screenshot}")
        if not screenshot.is_file():
            problems.append(f"{rel}: no screenshot was written")
    return probe, problems


def png_text(path: Path) -> dict[str, str]:
    """The ``tEXt``/``zTXt`` chunks of a PNG file."""
    data = path.read_bytes()
    out, pos = {}, 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        pos += 12 + length
    return out


if __name__ == "__main__":
    sys.exit(main())

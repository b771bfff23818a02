"""Every metric an alert rule or a dashboard panel reads must exist in the server's code.

Usage: metric_names.py SOURCE_DIR[:SOURCE_DIR...] FILE...
           (FILE: Prometheus rule YAML or Grafana JSON; the server records metrics in
           host/src and in the layer crates, so both are given)
       metric_names.py --as-rules DASHBOARD.json
           prints the dashboard's queries as a Prometheus rule file (Grafana's
           variables filled in), so `promtool check rules` can parse every one

The names the code records are the first argument of `counter!`, `gauge!` and
`histogram!` (the `metrics` facade). A name used in a PromQL expression that the code
does not record (say, after a rename) is reported with the file and the expression, and
the exit status is 1. Histograms are also known by their `_bucket`, `_sum` and `_count`
series. Standard library only, so it runs wherever python3 does.
"""

import json
import pathlib
import re
import sys

RECORDED = re.compile(r'\b(?:counter|gauge|histogram)!\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
# Series Prometheus itself adds to every scrape.
BUILT_IN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def recorded_names(source_dirs):
    names = set()
    for source_dir in source_dirs.split(":"):
        for path in pathlib.Path(source_dir).rglob("*.rs"):
            names.update(RECORDED.findall(path.read_text(encoding="utf-8")))
    return names


def names_in(expr):
    """Metric names in one PromQL expression (Grafana's $variables removed)."""
    text = re.sub(r"\$\{?\w+\}?", "", expr)
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', "", text)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


def rule_exprs(text):
    """`expr:` values of a Prometheus rule file, one-line or block scalars (| and >)."""
    lines = text.splitlines()
    exprs = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)(?:- )?expr:\s*(.*)$", line)
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2).strip()
        if rest[:1] in ("|", ">"):
            block = []
            for following in lines[i + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following.strip())
            exprs.append(" ".join(block))
        else:
            exprs.append(rest.strip("'\""))
    return exprs


def dashboard_exprs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from dashboard_exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_exprs(item)


def known(name, recorded):
    if name in recorded or name in BUILT_IN:
        return True
    return any(name.endswith(s) and name[: -len(s)] in recorded for s in HISTOGRAM_SERIES)


def main(source_dir, files):
    recorded = recorded_names(source_dir)
    if not recorded:
        print(f"no metrics recorded under {source_dir}: wrong directory?")
        return 1
    missing = 0
    for file in files:
        text = pathlib.Path(file).read_text(encoding="utf-8")
        exprs = list(dashboard_exprs(json.loads(text))) if file.endswith(".json") else rule_exprs(text)
        if not exprs:
            print(f"{file}: no expressions found")
            missing += 1
        for expr in exprs:
            for name in sorted(names_in(expr)):
                if not known(name, recorded):
                    print(f"{file}: metric {name} is not recorded by the code (in: {expr.strip()})")
                    missing += 1
    return 1 if missing else 0


# Grafana's variables, replaced by values PromQL accepts.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$instance": ".*"}


def as_rules(dashboard):
    """The dashboard's queries as recording rules; JSON strings are valid YAML scalars."""
    lines = ["groups:", "  - name: dashboard-queries", "    rules:"]
    for i, expr in enumerate(dashboard_exprs(json.loads(pathlib.Path(dashboard).read_text()))):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        lines.append(f"      - record: dashboard_query_{i}")
        lines.append(f"        expr: {json.dumps(expr)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--as-rules":
        sys.stdout.write(as_rules(sys.argv[2]))
        sys.exit(0)
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))

"""Counts test cases from `bazel test` runs (one per libtorch): prints a line
per target, a total per run, and a last line "N passed, N failed, N skipped"
for all.

Bazel reports targets, not cases; each target's JUnit XML (written by gtest, or
by tests/python/bazel_unittest.py) holds its cases. A target that failed to
build, timed out or left no XML counts as one failed case. A skipped case
(GTEST_SKIP, unittest's skipTest) is counted as skipped, never as passed.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

STATUS = re.compile(
    r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED TO BUILD|FAILED|FLAKY|TIMEOUT|NO STATUS|INCOMPLETE|SKIPPED)\b"
)


def cases_in(xml_path):
    """(passed, failed, skipped) from a JUnit XML file, or None if unreadable."""
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def cases_of_target(target_dir):
    """(passed, failed, skipped) of a target: the sum of its shards' test.xml, or
    its own. Bazel leaves the other form's files of an earlier run in place when
    shard_count changes; the newer form is this run's."""
    whole_path = os.path.join(target_dir, "test.xml")
    try:
        shards = [os.path.join(target_dir, d, "test.xml") for d in sorted(os.listdir(target_dir))
                  if d.startswith("shard_") and os.path.isfile(os.path.join(target_dir, d, "test.xml"))]
    except OSError:
        shards = []
    if shards:  # only the newest shard count's (shard_1_of_2, shard_2_of_2)
        newest = max(shards, key=os.path.getmtime)
        of = os.path.basename(os.path.dirname(newest)).rsplit("_of_", 1)[-1]
        shards = [s for s in shards if os.path.basename(os.path.dirname(s)).endswith("_of_" + of)]
    if shards and (not os.path.isfile(whole_path)
                   or max(os.path.getmtime(s) for s in shards) > os.path.getmtime(whole_path)):
        counts = [cases_in(s) for s in shards]
        if any(c is None for c in counts):
            return None
        return tuple(sum(c[i] for c in counts) for i in range(3))
    return cases_in(whole_path)


def count_run(log_path, testlogs, bazel_exit_code):
    """(passed, failed, skipped) of one `bazel test` run, printing a line per target."""
    passed = failed = skipped = 0
    seen = 0
    with open(log_path, errors="replace") as f:
        for line in f:
            m = STATUS.match(line.strip())
            if not m:
                continue
            target, status = m.groups()
            seen += 1
            counted = None
            if status in ("PASSED", "FAILED", "FLAKY") and testlogs:
                package, name = target[2:].split(":")
                counted = cases_of_target(os.path.join(testlogs, package, name))
            if counted is None or (status != "PASSED" and counted[1] == 0):
                counted = (1, 0, 0) if status == "PASSED" else (0, 1, 0)
            passed += counted[0]
            failed += counted[1]
            skipped += counted[2]
            print(f"{target}: {status} ({_counts(*counted)})")
    if seen == 0:
        print("no test target reported a status (did the build fail before testing?)")
        failed += 1
    elif bazel_exit_code not in (0, 3) and failed == 0:
        # 3 means tests failed, counted above; anything else is a build or
        # infrastructure failure that no test case shows.
        print(f"bazel exited with {bazel_exit_code}: part of the build failed (see above)")
        failed += 1
    return passed, failed, skipped


def _counts(passed, failed, skipped):
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run",
        nargs=4,
        action="append",
        required=True,
        metavar=("LABEL", "LOG", "TESTLOGS", "EXIT_CODE"),
        help="one `bazel test` run: a label (which libtorch), its output, `bazel info bazel-testlogs` "
        "and its exit code; repeat for several runs, counted together",
    )
    parser.add_argument(
        "--history",
        default=os.path.expanduser("~/.cache/featx/test-counts.json"),
        help="where each run's case count of the last green summary is kept, to say when a run counts fewer",
    )
    args = parser.parse_args()

    passed = failed = skipped = 0
    ran = {}
    for label, log_path, testlogs, exit_code in args.run:
        print(f"== {label}")
        p, f, s = count_run(log_path, testlogs, int(exit_code))
        print(f"{label}: {_counts(p, f, s)}")
        ran[label] = p + f + s
        passed += p
        failed += f
        skipped += s
    green = failed == 0 and passed > 0
    for line in fewer_than_last_green(ran, args.history, green):
        print(line)
    print(_counts(passed, failed, skipped))
    return 0 if green else 1


def fewer_than_last_green(ran, history_path, green):
    """Lines naming each run that counted fewer cases than the same run in the
    last green summary here (a target that stopped being built or found, a
    case list that shrank); a green summary becomes the new record."""
    try:
        with open(history_path) as f:
            last = json.load(f)
    except (OSError, ValueError):
        last = {}
    lines = [f"note: {label} counted {count} cases, {last[label]} in the last green run here"
             for label, count in ran.items() if count < last.get(label, 0)]
    if green:
        try:
            os.makedirs(os.path.dirname(history_path), exist_ok=True)
            with open(history_path, "w") as f:
                json.dump({**last, **ran}, f, indent=1, sort_keys=True)
        except OSError:
            pass
    return lines


if __name__ == "__main__":
    sys.exit(main())
